//! Turning token bytes into final text: UTF-8 held back until a character is complete, and text
//! held back while it could still be the start of a stop string.

/// Streams bytes to text, holding back a character split across tokens until it completes.
#[derive(Debug, Default, Clone)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Appends `bytes` and returns the text now complete. Bytes that can never be valid UTF-8
    /// become U+FFFD; an incomplete character at the end waits for the next call.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        let mut consumed = 0;
        loop {
            match std::str::from_utf8(&self.pending[consumed..]) {
                Ok(valid) => {
                    out.push_str(valid);
                    consumed = self.pending.len();
                    break;
                }
                Err(error) => {
                    let valid_end = consumed + error.valid_up_to();
                    // The prefix was just validated by from_utf8.
                    out.push_str(&String::from_utf8_lossy(&self.pending[consumed..valid_end]));
                    match error.error_len() {
                        Some(invalid) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            consumed = valid_end + invalid;
                        }
                        None => {
                            consumed = valid_end;
                            break;
                        }
                    }
                }
            }
        }
        self.pending.drain(..consumed);
        out
    }

    /// True when part of a character is waiting for its remaining bytes.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

/// Finds stop strings across token boundaries. Text comes out only once no stop string can
/// start inside it, so a stop string is never shown, not even in part.
#[derive(Debug)]
pub struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

/// What [`StopMatcher::push`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum StopScan {
    /// Text safe to show now (may be empty).
    Continue(String),
    /// A stop string appeared: the text before it, after which generation ends.
    Stopped(String),
}

impl StopMatcher {
    pub fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            held: String::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> StopScan {
        if self.stops.is_empty() {
            return StopScan::Continue(text.to_owned());
        }
        self.held.push_str(text);
        let earliest = self
            .stops
            .iter()
            .filter_map(|stop| self.held.find(stop.as_str()))
            .min();
        if let Some(at) = earliest {
            let before = self.held[..at].to_owned();
            self.held.clear();
            return StopScan::Stopped(before);
        }
        let keep = self.longest_stop_prefix_suffix();
        let release = self.held.len() - keep;
        let out = self.held[..release].to_owned();
        self.held.drain(..release);
        StopScan::Continue(out)
    }

    /// The text still held back; shown when generation ends for another reason.
    pub fn flush(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// Length in bytes of the longest suffix of `held` that is a proper prefix of a stop string.
    fn longest_stop_prefix_suffix(&self) -> usize {
        let mut best = 0;
        for stop in &self.stops {
            let max = stop.len().saturating_sub(1).min(self.held.len());
            for len in (best + 1..=max).rev() {
                let start = self.held.len() - len;
                if self.held.is_char_boundary(start) && stop.starts_with(&self.held[start..]) {
                    best = len;
                    break;
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_split_character_is_held_until_complete() {
        let mut stream = Utf8Stream::default();
        let bytes = "你好".as_bytes();
        assert_eq!(stream.push(&bytes[..2]), "");
        assert!(stream.has_pending());
        assert_eq!(stream.push(&bytes[2..4]), "你");
        assert_eq!(stream.push(&bytes[4..]), "好");
        assert!(!stream.has_pending());
    }

    #[test]
    fn utf8_emoji_split_in_four() {
        let mut stream = Utf8Stream::default();
        let mut out = String::new();
        for byte in "a😀b".as_bytes() {
            out.push_str(&stream.push(&[*byte]));
        }
        assert_eq!(out, "a😀b");
    }

    #[test]
    fn utf8_invalid_byte_becomes_replacement() {
        let mut stream = Utf8Stream::default();
        assert_eq!(stream.push(b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn stop_string_across_pieces_is_never_shown() {
        let mut matcher = StopMatcher::new(&["###".to_owned()]);
        assert_eq!(matcher.push("hello #"), StopScan::Continue("hello ".into()));
        assert_eq!(matcher.push("#"), StopScan::Continue(String::new()));
        assert_eq!(matcher.push("# tail"), StopScan::Stopped(String::new()));
    }

    #[test]
    fn partial_match_that_fails_is_released() {
        let mut matcher = StopMatcher::new(&["END".to_owned()]);
        assert_eq!(matcher.push("the E"), StopScan::Continue("the ".into()));
        assert_eq!(matcher.push("ND"), StopScan::Stopped(String::new()));
        let mut matcher = StopMatcher::new(&["END".to_owned()]);
        assert_eq!(matcher.push("the E"), StopScan::Continue("the ".into()));
        assert_eq!(matcher.push("xit"), StopScan::Continue("Exit".into()));
        assert_eq!(matcher.flush(), "");
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        let mut matcher = StopMatcher::new(&["world".to_owned(), "lo".to_owned()]);
        assert_eq!(matcher.push("hello world"), StopScan::Stopped("hel".into()));
    }

    #[test]
    fn flush_returns_held_prefix() {
        let mut matcher = StopMatcher::new(&["\n\n".to_owned()]);
        assert_eq!(matcher.push("line\n"), StopScan::Continue("line".into()));
        assert_eq!(matcher.flush(), "\n");
    }

    #[test]
    fn multibyte_text_with_stop() {
        let mut matcher = StopMatcher::new(&["。".to_owned()]);
        assert_eq!(matcher.push("你好"), StopScan::Continue("你好".into()));
        assert_eq!(matcher.push("。再见"), StopScan::Stopped(String::new()));
    }
}
