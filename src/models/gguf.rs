//! Reading a GGUF file's header, key/value metadata and tensor table — never its weights — so
//! listing models is fast even for 50 GB files.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;

/// What `refrain models` shows about a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GgufSummary {
    pub version: u32,
    pub architecture: Option<String>,
    pub name: Option<String>,
    /// From `general.file_type`, e.g. "Q4_1".
    pub quantization: Option<String>,
    pub parameters: u64,
    pub context_length: Option<u64>,
    pub layers: Option<u64>,
    /// Width of the hidden state, and attention heads (all, and for keys/values): enough to
    /// size the KV cache when estimating what fits on a GPU.
    pub embedding_length: Option<u64>,
    pub head_count: Option<u64>,
    pub head_count_kv: Option<u64>,
    pub has_chat_template: bool,
    pub tensor_count: u64,
    /// Bytes of tensor data the header describes.
    pub tensor_bytes: u64,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    /// Arrays are skipped, not kept: only their presence matters here.
    Array,
}

/// Guards against lengths a corrupt file could claim.
const MAX_STRING: u64 = 64 << 20;
const MAX_COUNT: u64 = 1 << 24;

struct Reader<R> {
    inner: R,
}

impl<R: Read + Seek> Reader<R> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut buffer = [0u8; N];
        self.inner
            .read_exact(&mut buffer)
            .map_err(|_| "the file ends inside its header".to_owned())?;
        Ok(buffer)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    fn count(&mut self, what: &str) -> Result<u64, String> {
        let count = self.u64()?;
        if count > MAX_COUNT {
            return Err(format!("implausible {what} count {count}"));
        }
        Ok(count)
    }

    fn string(&mut self) -> Result<String, String> {
        let length = self.u64()?;
        if length > MAX_STRING {
            return Err(format!("implausible string length {length}"));
        }
        let mut buffer = vec![0u8; length as usize];
        self.inner
            .read_exact(&mut buffer)
            .map_err(|_| "the file ends inside its header".to_owned())?;
        Ok(String::from_utf8_lossy(&buffer).into_owned())
    }

    fn skip_string(&mut self) -> Result<(), String> {
        let length = self.u64()?;
        if length > MAX_STRING {
            return Err(format!("implausible string length {length}"));
        }
        self.inner
            .seek(SeekFrom::Current(length as i64))
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    fn value(&mut self, kind: u32) -> Result<Value, String> {
        Ok(match kind {
            0 => Value::Unsigned(u64::from(self.bytes::<1>()?[0])),
            1 => Value::Signed(i64::from(self.bytes::<1>()?[0] as i8)),
            2 => Value::Unsigned(u64::from(u16::from_le_bytes(self.bytes()?))),
            3 => Value::Signed(i64::from(i16::from_le_bytes(self.bytes()?))),
            4 => Value::Unsigned(u64::from(self.u32()?)),
            5 => Value::Signed(i64::from(i32::from_le_bytes(self.bytes()?))),
            6 => Value::Float(f64::from(f32::from_le_bytes(self.bytes()?))),
            7 => Value::Bool(self.bytes::<1>()?[0] != 0),
            8 => Value::Text(self.string()?),
            9 => {
                let item = self.u32()?;
                let count = self.count("array")?;
                match fixed_size(item) {
                    Some(size) => {
                        self.inner
                            .seek(SeekFrom::Current((size * count) as i64))
                            .map_err(|e| e.to_string())?;
                    }
                    None if item == 8 => {
                        for _ in 0..count {
                            self.skip_string()?;
                        }
                    }
                    None => return Err(format!("unsupported array item type {item}")),
                }
                Value::Array
            }
            10 => Value::Unsigned(self.u64()?),
            11 => Value::Signed(i64::from_le_bytes(self.bytes()?)),
            12 => Value::Float(f64::from_le_bytes(self.bytes()?)),
            other => return Err(format!("unknown metadata type {other}")),
        })
    }
}

fn fixed_size(kind: u32) -> Option<u64> {
    Some(match kind {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        _ => return None,
    })
}

/// Bytes per block and elements per block of ggml tensor types, for the data size.
fn type_size(kind: u32) -> Option<(u64, u64)> {
    Some(match kind {
        0 => (4, 1),      // F32
        1 => (2, 1),      // F16
        2 => (18, 32),    // Q4_0
        3 => (20, 32),    // Q4_1
        6 => (22, 32),    // Q5_0
        7 => (24, 32),    // Q5_1
        8 => (34, 32),    // Q8_0
        9 => (36, 32),    // Q8_1
        10 => (84, 256),  // Q2_K
        11 => (110, 256), // Q3_K
        12 => (144, 256), // Q4_K
        13 => (176, 256), // Q5_K
        14 => (210, 256), // Q6_K
        15 => (292, 256), // Q8_K
        24 => (1, 1),     // I8
        25 => (2, 1),     // I16
        26 => (4, 1),     // I32
        27 => (8, 1),     // I64
        28 => (8, 1),     // F64
        30 => (2, 1),     // BF16
        _ => return None,
    })
}

/// Reads the summary of a GGUF file; `Err` says why the file is not a usable GGUF.
pub fn read_summary(path: &Path) -> Result<GgufSummary, String> {
    let file = File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut reader = Reader {
        inner: BufReader::with_capacity(1 << 16, file),
    };
    if &reader.bytes::<4>()? != b"GGUF" {
        return Err("not a GGUF file (no GGUF magic bytes)".into());
    }
    let version = reader.u32()?;
    if !(2..=3).contains(&version) {
        return Err(format!("unsupported GGUF version {version}"));
    }
    let tensor_count = reader.count("tensor")?;
    let kv_count = reader.count("metadata")?;
    let mut pairs = Vec::new();
    for _ in 0..kv_count {
        let key = reader.string()?;
        let kind = reader.u32()?;
        let value = reader.value(kind)?;
        pairs.push((key, value));
    }
    let text = |key: &str| {
        pairs.iter().find_map(|(k, v)| match v {
            Value::Text(t) if k == key => Some(t.clone()),
            _ => None,
        })
    };
    let number = |key: &str| {
        pairs.iter().find_map(|(k, v)| match v {
            Value::Unsigned(n) if k == key => Some(*n),
            Value::Signed(n) if k == key && *n >= 0 => Some(*n as u64),
            _ => None,
        })
    };
    let architecture = text("general.architecture");
    let arch_number = |suffix: &str| {
        architecture
            .as_ref()
            .and_then(|a| number(&format!("{a}.{suffix}")))
    };
    let mut parameters = 0u64;
    let mut tensor_bytes = 0u64;
    let mut data_end = 0u64;
    for _ in 0..tensor_count {
        reader.skip_string()?;
        let dimensions = reader.u32()?;
        if dimensions > 8 {
            return Err(format!("implausible tensor with {dimensions} dimensions"));
        }
        let mut elements = 1u64;
        for _ in 0..dimensions {
            elements = elements.saturating_mul(reader.u64()?);
        }
        let kind = reader.u32()?;
        let offset = reader.u64()?;
        parameters = parameters.saturating_add(elements);
        if let Some((bytes, per_block)) = type_size(kind) {
            let size = elements / per_block * bytes;
            tensor_bytes = tensor_bytes.saturating_add(size);
            data_end = data_end.max(offset.saturating_add(size));
        }
    }
    // The tensor data starts at the next multiple of the alignment after the header.
    let alignment = number("general.alignment").filter(|a| *a > 0).unwrap_or(32);
    let header_end = reader.inner.stream_position().map_err(|e| e.to_string())?;
    let data_start = header_end.div_ceil(alignment) * alignment;
    let file_size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if file_size < data_start.saturating_add(data_end) {
        return Err(format!(
            "truncated: the file has {file_size} bytes but its tensors need {}",
            data_start.saturating_add(data_end)
        ));
    }
    Ok(GgufSummary {
        version,
        name: text("general.name"),
        quantization: number("general.file_type")
            .and_then(|t| crate::engine::quantization_name(t as u32))
            .map(str::to_owned),
        parameters,
        context_length: arch_number("context_length"),
        layers: arch_number("block_count"),
        embedding_length: arch_number("embedding_length"),
        head_count: arch_number("attention.head_count"),
        head_count_kv: arch_number("attention.head_count_kv"),
        has_chat_template: pairs.iter().any(|(k, _)| k == "tokenizer.chat_template"),
        architecture,
        tensor_count,
        tensor_bytes,
    })
}
