//! Reading facts about a loaded model from its GGUF metadata.

use std::path::Path;
use std::time::Duration;

use llama_cpp_2::model::LlamaModel;

use super::events::ModelInfo;
use super::request::LoadOptions;

/// llama.cpp's `llama_ftype` values (the GGUF key `general.file_type`) by name.
pub fn quantization_name(file_type: u32) -> Option<&'static str> {
    Some(match file_type {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4",
        _ => return None,
    })
}

pub struct LoadFacts {
    pub load_time: Duration,
    pub context_size: u32,
    pub threads: u32,
    pub gpu_offload_supported: bool,
    /// The GPUs and their free memory before the load, for the per-device split.
    pub gpus: Vec<(String, u64)>,
}

pub fn describe(model: &LlamaModel, options: &LoadOptions, facts: LoadFacts) -> ModelInfo {
    let meta = |key: &str| model.meta_val_str(key).ok().filter(|v| !v.is_empty());
    let path = options.model_path.clone();
    let name = meta("general.name").unwrap_or_else(|| file_stem(&path));
    let quantization = meta("general.file_type")
        .and_then(|v| v.parse::<u32>().ok())
        .and_then(quantization_name)
        .map(str::to_owned)
        .unwrap_or_else(|| "unknown".into());
    let layers = model.n_layer();
    let gpu_layers_offloaded = if facts.gpu_offload_supported {
        // llama.cpp counts the output layer as one more.
        options.gpu_layers.as_llama_count().min(layers + 1)
    } else {
        0
    };
    let offload = super::offload::split_layers(layers, gpu_layers_offloaded, &facts.gpus);
    ModelInfo {
        offload,
        size_bytes: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
        path,
        name,
        architecture: meta("general.architecture").unwrap_or_else(|| "unknown".into()),
        quantization,
        parameters: model.n_params(),
        layers,
        gpu_layers_offloaded,
        gpu_offload_supported: facts.gpu_offload_supported,
        context_size: facts.context_size,
        trained_context: model.n_ctx_train(),
        batch_size: options.batch_size.min(facts.context_size),
        threads: facts.threads,
        vocab_size: u32::try_from(model.n_vocab()).unwrap_or(0),
        has_chat_template: model.chat_template(None).is_ok(),
        load_time: facts.load_time,
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
