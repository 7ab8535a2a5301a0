//! Model files: GGUF metadata read from headers, and discovery across the places models live.

pub mod discover;
pub mod gguf;

/// "98.4 MB", "4.1 GB": sizes as the picker and listings show them.
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

/// "135M", "7.6B": parameter counts.
pub fn human_count(count: u64) -> String {
    let c = count as f64;
    if c >= 1e9 {
        format!("{:.1}B", c / 1e9)
    } else if c >= 1e6 {
        format!("{:.0}M", c / 1e6)
    } else if c >= 1e3 {
        format!("{:.0}k", c / 1e3)
    } else {
        count.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_numbers() {
        assert_eq!(super::human_bytes(98_362_432), "98.4 MB");
        assert_eq!(super::human_bytes(4_100_000_000), "4.1 GB");
        assert_eq!(super::human_count(134_515_008), "135M");
        assert_eq!(super::human_count(7_615_616_512), "7.6B");
    }
}
