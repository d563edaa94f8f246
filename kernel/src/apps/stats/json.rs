//! `/stats`: the [`StatsSource`] as one compact JSON object.
//!
//! ```text
//! {"server":"appliance/0.1.0","uptime_us":12345678,
//!  "interface":{"mac":"52:54:00:12:34:56","link_up":true,"mtu":1500,
//!               "ipv4":"10.0.2.15/24","gateway":"10.0.2.2","dhcp":true},
//!  "nic_rings":{"rx_size":256,"rx_posted":255,"tx_size":256,"tx_in_flight":3},
//!  "counters":{"ethernet":{"rx_frames":10,...},...},
//!  "tcp_connections":[{"local":"10.0.2.15:80","remote":"10.0.2.2:40001",
//!     "state":"ESTABLISHED","srtt_us":1501,"rttvar_us":750,"rto_us":1000000,
//!     "cwnd":14600,"ssthresh":65535,"bytes_in_flight":0,"retransmits":1},...],
//!  "truncated":false}
//! ```
//! (without the line breaks). `ipv4`, `gateway` and `srtt_us` are `null`
//! when unknown. When the buffer is too small, whole counters and whole
//! connection rows are left out, `"truncated":true` says so, and the
//! document stays valid JSON.

use core::fmt::{self, Write};

use super::{origin_name, Completeness, StatsSource, TcpConnection};
use crate::apps::writer::SliceWriter;

/// The bytes that close the document once the connection table is open.
/// With `true` it is one byte shorter, so reserving this much is enough
/// whether or not the table gets cut.
const TABLE_TAIL: &str = "],\"truncated\":false}";
/// The bytes that close the counters and carry on to the table.
const COUNTERS_TAIL: &str = "},\"tcp_connections\":[";
/// Room kept while counters are written outside a group.
const BETWEEN_GROUPS_RESERVE: usize = COUNTERS_TAIL.len() + TABLE_TAIL.len();
/// Room kept inside a group: its closing brace too.
const IN_GROUP_RESERVE: usize = BETWEEN_GROUPS_RESERVE + 1;

/// Renders `source` into `w`. Fails only if even the fixed part (server,
/// uptime, interface, rings) does not fit; `w` may hold a partial document
/// then.
pub fn render(source: &dyn StatsSource, server: &str, w: &mut SliceWriter) -> Result<Completeness, fmt::Error> {
    let result = render_within_reserve(source, server, w);
    w.set_reserve(0);
    result
}

fn render_within_reserve(
    source: &dyn StatsSource,
    server: &str,
    w: &mut SliceWriter,
) -> Result<Completeness, fmt::Error> {
    // Every piece is written atomically while the bytes that would close
    // the document from that point stay reserved, so a cut anywhere can
    // still be closed, and a buffer that fits the whole document gets it.
    w.set_reserve(BETWEEN_GROUPS_RESERVE);
    render_head(source, server, w)?;
    let mut truncated = false;

    // Counters: `"group":{"name":value,...}`, each piece atomically.
    let mut first_group = true;
    let mut closed_groups = true;
    source.for_each_group(&mut |group| {
        if truncated {
            return;
        }
        let comma = if first_group { "" } else { "," };
        w.set_reserve(IN_GROUP_RESERVE);
        if w.atomic(|w| write!(w, "{comma}{}:{{", Str(group.name))).is_err() {
            truncated = true;
            return;
        }
        first_group = false;
        for (i, m) in group.metrics.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            if w.atomic(|w| write!(w, "{comma}{}:{}", Str(m.name), m.value)).is_err() {
                truncated = true;
                break;
            }
        }
        w.set_reserve(BETWEEN_GROUPS_RESERVE);
        // Cannot fail (the brace was reserved); remembered if it does.
        closed_groups &= w.write_bytes(b"}").is_ok();
    });

    if !closed_groups {
        return Err(fmt::Error);
    }
    w.set_reserve(TABLE_TAIL.len());
    w.write_str(COUNTERS_TAIL)?;

    let mut first_row = true;
    if !truncated {
        source.for_each_tcp_connection(&mut |row| {
            let comma = if first_row { "" } else { "," };
            if w.atomic(|w| {
                w.write_str(comma)?;
                render_connection(row, w)
            })
            .is_err()
            {
                truncated = true;
                return false;
            }
            first_row = false;
            true
        });
    }

    w.set_reserve(0);
    write!(w, "],\"truncated\":{truncated}}}")?;
    Ok(if truncated { Completeness::Truncated } else { Completeness::Complete })
}

fn render_head(source: &dyn StatsSource, server: &str, w: &mut SliceWriter) -> fmt::Result {
    let iface = source.interface();
    let rings = source.nic_rings();
    write!(w, "{{\"server\":{},\"uptime_us\":{},", Str(server), source.uptime().total_micros())?;
    write!(w, "\"interface\":{{\"mac\":\"{}\",\"link_up\":{},\"mtu\":{},", iface.mac, iface.link_up, iface.mtu)?;
    match iface.ipv4 {
        Some(cidr) => write!(w, "\"ipv4\":\"{cidr}\",")?,
        None => w.write_str("\"ipv4\":null,")?,
    }
    match iface.gateway {
        Some(gw) => write!(w, "\"gateway\":\"{gw}\",")?,
        None => w.write_str("\"gateway\":null,")?,
    }
    write!(w, "\"dhcp\":{},\"ipv6\":[", iface.dhcp)?;
    let mut result = Ok(());
    let mut first = true;
    source.for_each_ipv6_address(&mut |a| {
        let comma = if core::mem::take(&mut first) { "" } else { "," };
        result = result.and_then(|()| {
            write!(
                w,
                "{comma}{{\"address\":\"{}\",\"prefix_len\":{},\"state\":\"{}\",\"origin\":\"{}\"}}",
                a.address,
                a.prefix_len,
                a.state.name(),
                origin_name(a.origin)
            )
        });
    });
    result?;
    match source.ipv6_router() {
        Some(r) => write!(w, "],\"ipv6_router\":\"{r}\"}},")?,
        None => w.write_str("],\"ipv6_router\":null},")?,
    }
    write!(
        w,
        "\"nic_rings\":{{\"rx_size\":{},\"rx_posted\":{},\"tx_size\":{},\"tx_in_flight\":{}}},",
        rings.rx_size, rings.rx_posted, rings.tx_size, rings.tx_in_flight
    )?;
    // The neighbour cache, bounded so the fixed part stays small.
    w.write_str("\"ipv6_neighbours\":[")?;
    let mut result = Ok(());
    let mut shown = 0;
    source.for_each_ipv6_neighbour(&mut |n| {
        let comma = if shown == 0 { "" } else { "," };
        result = result.and_then(|()| {
            write!(w, "{comma}{{\"ip\":\"{}\",\"mac\":", n.ip)?;
            match n.mac {
                Some(mac) => write!(w, "\"{mac}\"")?,
                None => w.write_str("null")?,
            }
            write!(w, ",\"state\":\"{}\",\"router\":{}}}", n.state.name(), n.is_router)
        });
        shown += 1;
        shown < MAX_NEIGHBOURS_SHOWN && result.is_ok()
    });
    result?;
    w.write_str("],\"counters\":{")
}

/// IPv6 neighbours listed in `/stats` at most.
const MAX_NEIGHBOURS_SHOWN: usize = 16;

fn render_connection(c: &TcpConnection, w: &mut SliceWriter) -> fmt::Result {
    write!(w, "{{\"local\":{},\"remote\":{},\"state\":{},", Str(c.local), Str(c.remote), Str(c.state))?;
    match c.srtt_us {
        Some(srtt) => write!(w, "\"srtt_us\":{srtt},")?,
        None => w.write_str("\"srtt_us\":null,")?,
    }
    write!(
        w,
        "\"rttvar_us\":{},\"rto_us\":{},\"cwnd\":{},\"ssthresh\":{},\"bytes_in_flight\":{},\"retransmits\":{}}}",
        c.rttvar_us, c.rto_us, c.cwnd, c.ssthresh, c.bytes_in_flight, c.retransmits
    )
}

/// Anything `Display` as a JSON string: quoted, with `"`, `\` and control
/// characters escaped.
struct Str<T>(T);

impl<T: fmt::Display> fmt::Display for Str<T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_char('"')?;
        write!(Escaper(f), "{}", self.0)?;
        f.write_char('"')
    }
}

/// Escapes the text written through it for the inside of a JSON string.
struct Escaper<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl Write for Escaper<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut plain_from = 0;
        for (i, c) in s.char_indices() {
            let escape = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                c if (c as u32) < 0x20 => None,
                _ => continue,
            };
            self.0.write_str(&s[plain_from..i])?;
            match escape {
                Some(e) => self.0.write_str(e)?,
                None => write!(self.0, "\\u{:04x}", c as u32)?,
            }
            plain_from = i + c.len_utf8();
        }
        self.0.write_str(&s[plain_from..])
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::apps::stats::fixture::FixedStats;
    use std::vec;

    /// A strict JSON syntax checker (RFC 8259), enough to prove a
    /// rendering is a well-formed document.
    pub(crate) fn is_valid_json(text: &[u8]) -> bool {
        let mut p = Checker { s: text, i: 0 };
        p.ws();
        p.value(0) && {
            p.ws();
            p.i == text.len()
        }
    }

    struct Checker<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Checker<'_> {
        fn peek(&self) -> Option<u8> {
            self.s.get(self.i).copied()
        }
        fn eat(&mut self, b: u8) -> bool {
            if self.peek() == Some(b) {
                self.i += 1;
                true
            } else {
                false
            }
        }
        fn ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }
        fn lit(&mut self, l: &[u8]) -> bool {
            if self.s[self.i..].starts_with(l) {
                self.i += l.len();
                true
            } else {
                false
            }
        }
        fn value(&mut self, depth: usize) -> bool {
            if depth > 32 {
                return false;
            }
            match self.peek() {
                Some(b'{') => self.container(depth, b'}', true),
                Some(b'[') => self.container(depth, b']', false),
                Some(b'"') => self.string(),
                Some(b't') => self.lit(b"true"),
                Some(b'f') => self.lit(b"false"),
                Some(b'n') => self.lit(b"null"),
                Some(b'-' | b'0'..=b'9') => self.number(),
                _ => false,
            }
        }
        fn container(&mut self, depth: usize, close: u8, object: bool) -> bool {
            self.i += 1;
            self.ws();
            if self.eat(close) {
                return true;
            }
            loop {
                self.ws();
                if object {
                    if !self.string() {
                        return false;
                    }
                    self.ws();
                    if !self.eat(b':') {
                        return false;
                    }
                    self.ws();
                }
                if !self.value(depth + 1) {
                    return false;
                }
                self.ws();
                if self.eat(close) {
                    return true;
                }
                if !self.eat(b',') {
                    return false;
                }
            }
        }
        fn string(&mut self) -> bool {
            if !self.eat(b'"') {
                return false;
            }
            while let Some(b) = self.peek() {
                self.i += 1;
                match b {
                    b'"' => return true,
                    b'\\' => match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            let hex = self.s.get(self.i + 1..self.i + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return false;
                            }
                            self.i += 5;
                        }
                        _ => return false,
                    },
                    0..=0x1f => return false,
                    _ => {}
                }
            }
            false
        }
        fn number(&mut self) -> bool {
            self.eat(b'-');
            let start = self.i;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            let digits = self.i - start;
            digits > 0 && !(digits > 1 && self.s[start] == b'0')
        }
    }

    #[test]
    fn the_checker_rejects_broken_documents() {
        for bad in [&b"{\"a\":1,}"[..], b"[1,2", b"{\"a\" 1}", b"\"x\ny\"", b"01", b"{} x", b"[\"\\q\"]", b""] {
            assert!(!is_valid_json(bad), "{}", std::str::from_utf8(bad).unwrap());
        }
        for good in [&b"{\"a\":[1,-2,{}],\"b\":null}"[..], b" [true,false] ", b"\"\\u00e9\\n\""] {
            assert!(is_valid_json(good));
        }
    }

    fn render_to(source: &FixedStats, cap: usize) -> (Result<Completeness, fmt::Error>, std::vec::Vec<u8>) {
        let mut buf = vec![0u8; cap];
        let mut w = SliceWriter::new(&mut buf);
        let r = render(source, "appliance/0.1.0", &mut w);
        let out = w.written().to_vec();
        (r, out)
    }

    const EXPECTED_TWO: &str = concat!(
        r#"{"server":"appliance/0.1.0","uptime_us":12345678,"#,
        r#""interface":{"mac":"52:54:00:12:34:56","link_up":true,"mtu":1500,"ipv4":"10.0.2.15/24","gateway":"10.0.2.2","dhcp":true,"#,
        r#""ipv6":[{"address":"fe80::5054:ff:fe12:3456","prefix_len":64,"state":"preferred","origin":"link-local"}],"ipv6_router":"fe80::1"},"#,
        r#""nic_rings":{"rx_size":256,"rx_posted":255,"tx_size":256,"tx_in_flight":3},"#,
        r#""ipv6_neighbours":[{"ip":"fe80::1","mac":"52:55:00:00:00:01","state":"REACHABLE","router":true}],"#,
        r#""counters":{"ethernet":{"rx_frames":10,"tx_frames":9},"tcp":{"rx_segments":7,"listeners":2}},"#,
        r#""tcp_connections":["#,
        r#"{"local":"10.0.2.15:80","remote":"10.0.2.2:40000","state":"ESTABLISHED","srtt_us":null,"rttvar_us":750,"rto_us":1000000,"cwnd":14600,"ssthresh":65535,"bytes_in_flight":0,"retransmits":0},"#,
        r#"{"local":"10.0.2.15:80","remote":"10.0.2.2:40001","state":"ESTABLISHED","srtt_us":1501,"rttvar_us":750,"rto_us":1000000,"cwnd":14600,"ssthresh":65535,"bytes_in_flight":0,"retransmits":1}"#,
        r#"],"truncated":false}"#
    );

    #[test]
    fn renders_the_exact_document() {
        let (r, out) = render_to(&FixedStats::new(2), 4096);
        assert_eq!(r, Ok(Completeness::Complete));
        assert_eq!(std::str::from_utf8(&out).unwrap(), EXPECTED_TWO);
        assert!(is_valid_json(&out));
    }

    #[test]
    fn an_empty_table_is_an_empty_array() {
        let (r, out) = render_to(&FixedStats::new(0), 4096);
        assert_eq!(r, Ok(Completeness::Complete));
        let out = std::str::from_utf8(&out).unwrap();
        assert!(
            out.ends_with(r#""tcp":{"rx_segments":7,"listeners":2}},"tcp_connections":[],"truncated":false}"#),
            "{out}"
        );
        assert!(is_valid_json(out.as_bytes()));
    }

    #[test]
    fn strings_are_escaped() {
        let mut stats = FixedStats::new(1);
        stats.state = "A\"B\\C\nD\u{1}é";
        let (_, out) = render_to(&stats, 4096);
        let out = std::str::from_utf8(&out).unwrap();
        assert!(out.contains(r#""state":"A\"B\\C\nD\u0001é""#), "{out}");
        assert!(is_valid_json(out.as_bytes()));
    }

    #[test]
    fn the_table_is_cut_cleanly_when_the_buffer_is_short() {
        let full = render_to(&FixedStats::new(2), 4096).1.len();
        let (r, out) = render_to(&FixedStats::new(2), full - 1);
        assert_eq!(r, Ok(Completeness::Truncated));
        let expected_head = EXPECTED_TWO.split("},{").next().unwrap();
        assert_eq!(std::str::from_utf8(&out).unwrap(), std::format!("{expected_head}}}],\"truncated\":true}}"));
        assert!(is_valid_json(&out));
    }

    #[test]
    fn every_buffer_size_gives_valid_json_or_an_error() {
        let source = FixedStats::new(5);
        let full = render_to(&source, 8192).1.len();
        let mut errors = 0;
        for cap in 0..=full + 1 {
            let (r, out) = render_to(&source, cap);
            assert!(out.len() <= cap);
            match r {
                Ok(c) => {
                    assert!(is_valid_json(&out), "cap {cap}: {}", std::str::from_utf8(&out).unwrap());
                    assert_eq!(c == Completeness::Complete, cap >= full, "cap {cap}");
                    let flag = if cap >= full { "false" } else { "true" };
                    assert!(out.ends_with(std::format!("\"truncated\":{flag}}}").as_bytes()));
                }
                Err(_) => errors += 1,
            }
        }
        // Only buffers too small for the fixed head (interface, IPv6
        // addresses and neighbours, rings) fail.
        assert!(errors > 0 && errors < 600, "{errors}");
    }
}
