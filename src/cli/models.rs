//! `refrain models`: every GGUF found, with header metadata.

use std::path::PathBuf;

use serde_json::json;

use super::Failure;
use crate::models::discover::{default_sources, discover};

pub fn models(dirs: &[PathBuf], as_json: bool) -> Result<i32, Failure> {
    let mut extra = dirs.to_vec();
    extra.extend(crate::paths::extra_model_dirs());
    let found = discover(&default_sources(&extra));
    if as_json {
        let rows: Vec<_> = found
            .iter()
            .map(|m| {
                let (summary, invalid) = match &m.summary {
                    Ok(summary) => (Some(summary), None),
                    Err(why) => (None, Some(why)),
                };
                json!({
                    "name": m.name,
                    "path": m.path,
                    "size_bytes": m.size,
                    "parts": m.parts,
                    "source": m.source.kind,
                    "source_dir": m.source.root,
                    "metadata": summary,
                    "invalid": invalid,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(0);
    }
    if found.is_empty() {
        println!("no GGUF models found (looked in ./models, --dir, and the Hugging Face, llama.cpp, LM Studio and Ollama caches); `make models` fetches the default one");
        return Ok(0);
    }
    println!(
        "{:<40} {:<10} {:>9} {:<7} {:>7} {:<4} {:>9}  {:<15} path",
        "name", "arch", "params", "quant", "context", "chat", "size", "found in"
    );
    for m in &found {
        let size = format!("{:.1} MB", m.size as f64 / 1e6);
        match &m.summary {
            Ok(s) => println!(
                "{:<40} {:<10} {:>8.1}M {:<7} {:>7} {:<4} {:>9}  {:<15} {}",
                m.name,
                s.architecture.as_deref().unwrap_or("?"),
                s.parameters as f64 / 1e6,
                s.quantization.as_deref().unwrap_or("?"),
                s.context_length
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "?".into()),
                if s.has_chat_template { "yes" } else { "no" },
                size,
                m.source.kind,
                m.path.display()
            ),
            Err(why) => println!(
                "{:<40} invalid: {why}  {:<15} {}",
                m.name,
                m.source.kind,
                m.path.display()
            ),
        }
    }
    Ok(0)
}

/// `refrain models --devices`: the devices, and where the chosen model's layers would go with
/// the chosen `--gpu-layers` (read from the GGUF header; nothing is loaded).
pub fn devices(as_json: bool, load: &super::LoadArgs) -> Result<i32, Failure> {
    use crate::engine::offload::{auto_layers, split_layers};
    let devices = crate::engine::devices()?;
    let gpus = crate::engine::gpu_free_memory();
    let requested = load
        .gpu_layers
        .unwrap_or(crate::engine::GpuLayers::Count(0));
    let context = load
        .ctx_size
        .unwrap_or(crate::engine::LoadOptions::DEFAULT_CONTEXT_SIZE);
    let plan = load.to_options().ok().and_then(|options| {
        let summary = crate::models::gguf::read_summary(&options.model_path).ok()?;
        let layers = u32::try_from(summary.layers?).ok()?;
        let free: Vec<u64> = gpus.iter().map(|(_, f)| *f).collect();
        let count = match requested {
            crate::engine::GpuLayers::Auto => auto_layers(&summary, context, &free),
            other => other.as_llama_count(),
        };
        let offloaded = if gpus.is_empty() {
            0
        } else {
            count.min(layers + 1)
        };
        Some((
            options.model_path,
            layers,
            offloaded,
            split_layers(layers, offloaded, &gpus),
        ))
    });
    if as_json {
        let plan = plan.as_ref().map(|(path, layers, offloaded, split)| {
            json!({
                "model": path,
                "gpu_layers": requested.to_string(),
                "layers": layers + 1,
                "offloaded": offloaded,
                "per_device": split,
            })
        });
        println!("{}", json!({ "devices": devices, "plan": plan }));
        return Ok(0);
    }
    for device in &devices {
        println!(
            "{:<10} {:<15} {:<8} {:>10.1} GiB total {:>10.1} GiB free  {}",
            device.name,
            device.kind,
            device.backend,
            device.memory_total as f64 / f64::from(1u32 << 30),
            device.memory_free as f64 / f64::from(1u32 << 30),
            device.description
        );
    }
    if let Some((path, layers, offloaded, split)) = &plan {
        let per_device: Vec<String> = split
            .iter()
            .map(|d| format!("{} {}", d.device, d.layers))
            .collect();
        println!(
            "\n{} with --gpu-layers {requested}: {offloaded} of {} layers on the GPU{}",
            path.display(),
            layers + 1,
            if per_device.is_empty() {
                String::new()
            } else {
                format!(" ({})", per_device.join(", "))
            }
        );
    }
    if !devices.iter().any(|d| d.kind != "CPU") {
        println!("no GPU: {}", crate::engine::no_gpu_hint());
    }
    Ok(0)
}

/// `refrain --endpoint NAME|URL models`: the models the server offers (`/v1/models`).
pub fn server_models(
    endpoint: &crate::engine::remote::Endpoint,
    as_json: bool,
) -> Result<i32, Failure> {
    let models = crate::engine::remote::models_of(endpoint).map_err(|message| Failure {
        message,
        exit_code: 1,
    })?;
    if as_json {
        let rows: Vec<_> = models
            .iter()
            .map(|id| json!({"name": id, "endpoint": endpoint.public_url(), "source": "server"}))
            .collect();
        println!("{}", serde_json::Value::Array(rows));
    } else {
        for id in &models {
            println!("{id}  ({})", endpoint.public_url());
        }
    }
    Ok(0)
}
