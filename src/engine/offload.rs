//! GPU offload: how many layers fit (`--gpu-layers auto`), and which device gets which layers.
//! Pure arithmetic over the GGUF header and the free memory the backends report, so it can be
//! tested without a GPU.

use serde::Serialize;

use crate::models::gguf::GgufSummary;

/// Kept free on each device for llama.cpp's compute buffers and the driver.
pub const RESERVE_BYTES: u64 = 512 << 20;

/// Layers on one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DeviceLayers {
    pub device: String,
    pub layers: u32,
}

/// Bytes one repeating layer needs on the device: its weights plus its share of the KV cache
/// (f16 keys and values for `context` positions).
pub fn bytes_per_layer(summary: &GgufSummary, context: u32) -> Option<u64> {
    let layers = summary.layers.filter(|&l| l > 0)?;
    // Embeddings and the output layer are about one layer's worth each: count both.
    let weights = summary.tensor_bytes / (layers + 2);
    let kv = match (
        summary.embedding_length,
        summary.head_count,
        summary.head_count_kv,
    ) {
        (Some(embedding), Some(heads), Some(kv_heads)) if heads > 0 => {
            let kv_width = embedding / heads * kv_heads;
            2 * u64::from(context) * kv_width * 2
        }
        (Some(embedding), _, _) => 2 * u64::from(context) * embedding * 2,
        _ => 0,
    };
    Some(weights + kv)
}

/// How many layers to offload so they fit in `free` bytes of device memory (all devices
/// together), leaving [`RESERVE_BYTES`] per device. `layers + 1` means all of them, the
/// output layer included, as llama.cpp counts.
pub fn auto_layers(summary: &GgufSummary, context: u32, free: &[u64]) -> u32 {
    let (Some(layers), Some(per_layer)) = (summary.layers, bytes_per_layer(summary, context))
    else {
        return 0;
    };
    let budget: u64 = free.iter().map(|f| f.saturating_sub(RESERVE_BYTES)).sum();
    if per_layer == 0 {
        return 0;
    }
    let fitting = (budget / per_layer).min(layers + 1);
    u32::try_from(fitting).unwrap_or(u32::MAX)
}

/// Which device gets how many of `offloaded` layers, the way llama.cpp assigns them by default
/// (split mode "layer", proportional to each device's free memory): the last `offloaded` of
/// the model's `layers + 1` go to the GPUs, in order.
pub fn split_layers(layers: u32, offloaded: u32, free: &[(String, u64)]) -> Vec<DeviceLayers> {
    let mut counts = vec![0u32; free.len()];
    let total_free: f64 = free.iter().map(|(_, f)| *f as f64).sum();
    let active = offloaded.min(layers + 1);
    if free.is_empty() || active == 0 {
        return Vec::new();
    }
    // Cumulative shares, as llama.cpp's `splits`.
    let mut splits = Vec::with_capacity(free.len());
    let mut sum = 0.0;
    for (_, f) in free {
        sum += if total_free > 0.0 {
            *f as f64 / total_free
        } else {
            1.0 / free.len() as f64
        };
        splits.push(sum);
    }
    let start = layers + 1 - active;
    for layer in start..=layers {
        let position = f64::from(layer - start) / f64::from(active);
        let device = splits
            .iter()
            .position(|&s| s > position)
            .unwrap_or(free.len() - 1);
        counts[device] += 1;
    }
    free.iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|((name, _), layers)| DeviceLayers {
            device: name.clone(),
            layers,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(layers: u64, tensor_bytes: u64) -> GgufSummary {
        GgufSummary {
            version: 3,
            architecture: Some("llama".into()),
            name: None,
            quantization: Some("Q4_K_M".into()),
            parameters: 0,
            context_length: Some(8192),
            layers: Some(layers),
            embedding_length: Some(4096),
            head_count: Some(32),
            head_count_kv: Some(8),
            has_chat_template: true,
            tensor_count: 0,
            tensor_bytes,
        }
    }

    const GIB: u64 = 1 << 30;

    #[test]
    fn per_layer_bytes_count_weights_and_kv_cache() {
        // 32 layers, 3.4 GB: ~100 MB of weights a layer; KV: 2 × 4096 × 1024 × 2 B = 16 MiB.
        let summary = model(32, 34 * 100_000_000);
        let per_layer = bytes_per_layer(&summary, 4096).unwrap();
        assert_eq!(per_layer, 34 * 100_000_000 / 34 + 2 * 4096 * 1024 * 2);
    }

    #[test]
    fn auto_offloads_what_fits() {
        let summary = model(32, 34 * 100_000_000);
        assert_eq!(
            auto_layers(&summary, 4096, &[80 * GIB]),
            33,
            "all, output included"
        );
        let per_layer = bytes_per_layer(&summary, 4096).unwrap();
        let room_for_ten = RESERVE_BYTES + 10 * per_layer + per_layer / 2;
        assert_eq!(auto_layers(&summary, 4096, &[room_for_ten]), 10);
        assert_eq!(auto_layers(&summary, 4096, &[RESERVE_BYTES / 2]), 0);
        assert_eq!(
            auto_layers(&summary, 4096, &[]),
            0,
            "no GPU, nothing offloaded"
        );
        // A longer context needs more memory per layer, so fewer fit.
        assert!(auto_layers(&summary, 32768, &[room_for_ten]) < 10);
    }

    #[test]
    fn layers_split_by_free_memory_like_llama_cpp() {
        let two = [
            ("CUDA0".to_owned(), 40 * GIB),
            ("CUDA1".to_owned(), 40 * GIB),
        ];
        let split = split_layers(30, 31, &two);
        assert_eq!(
            split,
            vec![
                DeviceLayers {
                    device: "CUDA0".into(),
                    layers: 16
                },
                DeviceLayers {
                    device: "CUDA1".into(),
                    layers: 15
                },
            ]
        );
        let uneven = [
            ("CUDA0".to_owned(), 60 * GIB),
            ("CUDA1".to_owned(), 20 * GIB),
        ];
        let split = split_layers(30, 31, &uneven);
        assert_eq!(split.iter().map(|d| d.layers).sum::<u32>(), 31);
        assert!(split[0].layers > 2 * split[1].layers);
        assert_eq!(
            split_layers(30, 999, &two)
                .iter()
                .map(|d| d.layers)
                .sum::<u32>(),
            31
        );
        assert_eq!(
            split_layers(30, 5, &two[..1]),
            vec![DeviceLayers {
                device: "CUDA0".into(),
                layers: 5
            }]
        );
        assert!(split_layers(30, 0, &two).is_empty());
    }
}
