//! `/metrics`: the [`StatsSource`] in the Prometheus text exposition
//! format, version 0.0.4 (`Content-Type: text/plain; version=0.0.4`).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `appliance_info` (always 1) | gauge | `version`, `mac`, `ipv4`, `gateway`, `address_source` |
//! | `appliance_uptime_seconds` | gauge | |
//! | `appliance_link_up` | gauge | |
//! | `appliance_nic_{rx,tx}_ring_size`, `appliance_nic_rx_ring_posted`, `appliance_nic_tx_ring_in_flight` | gauge | |
//! | `appliance_GROUP_NAME_total` / `appliance_GROUP_NAME` | counter / gauge | |
//! | `appliance_tcp_connections` | gauge | |
//! | `appliance_tcp_connection_info` (always 1) | gauge | `local`, `remote`, `state` |
//! | `appliance_tcp_connection_{srtt,rttvar,rto}_seconds` | gauge | `local`, `remote` |
//! | `appliance_tcp_connection_{cwnd,ssthresh}_bytes`, `..._bytes_in_flight` | gauge | `local`, `remote` |
//! | `appliance_tcp_connection_retransmits_total` | counter | `local`, `remote` |
//!
//! Times are exact decimal seconds from the microsecond values. Characters
//! outside `[a-zA-Z0-9_:]` in group and metric names become `_`; label
//! values escape `\`, `"` and newline. When the buffer is too small, whole
//! lines are left out from the cut onwards and a final `# truncated` comment
//! says so; every line written is complete.

use core::fmt::{self, Write};

use super::{Completeness, MetricKind, StatsSource, TcpConnection};
use crate::apps::writer::SliceWriter;

const TRUNCATED_NOTE: &str = "# truncated\n";

/// Renders `source` into `w`; `version` goes into `appliance_info`.
/// Fails only if `w` cannot even hold the truncation note.
pub fn render(source: &dyn StatsSource, version: &str, w: &mut SliceWriter) -> Result<Completeness, fmt::Error> {
    if w.remaining() < TRUNCATED_NOTE.len() {
        return Err(fmt::Error);
    }
    let mut out = Lines { w, truncated: false };
    render_lines(source, version, &mut out);
    if out.truncated {
        // Make room for the note by dropping whole lines from the end.
        while w.remaining() < TRUNCATED_NOTE.len() {
            let body = &w.written()[..w.len().saturating_sub(1)];
            let line_start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            w.rollback(line_start);
        }
        w.write_str(TRUNCATED_NOTE)?;
        Ok(Completeness::Truncated)
    } else {
        Ok(Completeness::Complete)
    }
}

/// Writes whole lines only: once one does not fit, nothing more is written.
/// No room is reserved for the truncation note while writing (a buffer that
/// fits everything must get everything); lines are dropped for it after.
struct Lines<'w, 'b> {
    w: &'w mut SliceWriter<'b>,
    truncated: bool,
}

impl Lines<'_, '_> {
    fn line(&mut self, f: impl FnOnce(&mut SliceWriter) -> fmt::Result) {
        self.optional_line(|w| Some(f(w)));
    }

    /// A line `f` may decline to write by returning `None`.
    fn optional_line(&mut self, f: impl FnOnce(&mut SliceWriter) -> Option<fmt::Result>) {
        if self.truncated {
            return;
        }
        let mark = self.w.mark();
        match f(self.w) {
            Some(Ok(())) => {
                if self.w.write_str("\n").is_err() {
                    self.w.rollback(mark);
                    self.truncated = true;
                }
            }
            Some(Err(_)) => {
                self.w.rollback(mark);
                self.truncated = true;
            }
            None => self.w.rollback(mark),
        }
    }

    fn family(&mut self, name: &dyn fmt::Display, kind: MetricKind, help: &dyn fmt::Display) {
        let kind = match kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
        };
        self.line(|w| write!(w, "# HELP {name} {help}"));
        self.line(|w| write!(w, "# TYPE {name} {kind}"));
    }

    /// A family with a single unlabelled sample.
    fn single(&mut self, name: &str, kind: MetricKind, help: &str, value: &dyn fmt::Display) {
        self.family(&name, kind, &help);
        self.line(|w| write!(w, "{name} {value}"));
    }
}

fn render_lines(source: &dyn StatsSource, version: &str, out: &mut Lines) {
    use MetricKind::{Counter, Gauge};

    let iface = source.interface();
    out.family(&"appliance_info", Gauge, &"Version and addresses of the appliance (always 1).");
    out.line(|w| {
        write!(w, "appliance_info{{version=\"{}\",mac=\"{}\",ipv4=\"", Label(version), iface.mac)?;
        if let Some(cidr) = iface.ipv4 {
            write!(w, "{cidr}")?;
        }
        w.write_str("\",gateway=\"")?;
        if let Some(gw) = iface.gateway {
            write!(w, "{gw}")?;
        }
        let source = if iface.dhcp { "dhcp" } else { "static" };
        write!(w, "\",address_source=\"{source}\"}} 1")
    });
    out.single("appliance_uptime_seconds", Gauge, "Time since boot.", &Seconds(source.uptime().total_micros()));
    out.single(
        "appliance_link_up",
        Gauge,
        "Whether the NIC driver is up and passing frames (1) or not (0).",
        &u8::from(iface.link_up),
    );

    let rings = source.nic_rings();
    out.single("appliance_nic_rx_ring_size", Gauge, "Descriptors in the NIC receive ring.", &rings.rx_size);
    out.single("appliance_nic_rx_ring_posted", Gauge, "Receive buffers posted to the NIC.", &rings.rx_posted);
    out.single("appliance_nic_tx_ring_size", Gauge, "Descriptors in the NIC transmit ring.", &rings.tx_size);
    out.single("appliance_nic_tx_ring_in_flight", Gauge, "Transmit descriptors owned by the NIC.", &rings.tx_in_flight);

    source.for_each_group(&mut |group| {
        for m in group.metrics {
            let name = GroupMetricName { group: group.name, name: m.name, kind: m.kind };
            if m.help.is_empty() {
                out.family(&name, m.kind, &format_args!("{} {}", Help(group.name), Help(m.name)));
            } else {
                out.family(&name, m.kind, &Help(m.help));
            }
            out.line(|w| write!(w, "{name} {}", m.value));
        }
    });

    let mut count = 0u64;
    source.for_each_tcp_connection(&mut |_| {
        count += 1;
        true
    });
    out.single("appliance_tcp_connections", Gauge, "TCP connections (listeners excluded).", &count);

    out.family(&"appliance_tcp_connection_info", Gauge, &"TCP connection and its state (always 1).");
    for_each_row(source, out, |c, w| {
        Some(write!(
            w,
            "appliance_tcp_connection_info{{local=\"{}\",remote=\"{}\",state=\"{}\"}} 1",
            Label(c.local),
            Label(c.remote),
            Label(c.state)
        ))
    });
    let per_connection: [(&str, MetricKind, &str, RowValue); 7] = [
        ("srtt_seconds", Gauge, "Smoothed round-trip time.", |c| c.srtt_us.map(Value::Micros)),
        ("rttvar_seconds", Gauge, "Round-trip time variation.", |c| Some(Value::Micros(c.rttvar_us))),
        ("rto_seconds", Gauge, "Retransmission timeout.", |c| Some(Value::Micros(c.rto_us))),
        ("cwnd_bytes", Gauge, "Congestion window.", |c| Some(Value::Count(c.cwnd))),
        ("ssthresh_bytes", Gauge, "Slow-start threshold.", |c| Some(Value::Count(c.ssthresh))),
        ("bytes_in_flight", Gauge, "Bytes sent and not yet acknowledged.", |c| Some(Value::Count(c.bytes_in_flight))),
        ("retransmits_total", Counter, "Segments retransmitted.", |c| Some(Value::Count(c.retransmits))),
    ];
    for (suffix, kind, help, value) in per_connection {
        let name = format_args!("appliance_tcp_connection_{suffix}");
        out.family(&name, kind, &help);
        for_each_row(source, out, |c, w| {
            let v = value(c)?;
            Some(write!(
                w,
                "appliance_tcp_connection_{suffix}{{local=\"{}\",remote=\"{}\"}} {v}",
                Label(c.local),
                Label(c.remote)
            ))
        });
    }
}

/// One line per connection, written by `row`; a row for which `row`
/// returns `None` has nothing to report (no RTT sample yet) and is skipped.
fn for_each_row(
    source: &dyn StatsSource,
    out: &mut Lines,
    row: impl Fn(&TcpConnection, &mut SliceWriter) -> Option<fmt::Result>,
) {
    source.for_each_tcp_connection(&mut |c| {
        out.optional_line(|w| row(c, w));
        !out.truncated
    });
}

/// What one per-connection metric reads from a row (`None`: no sample).
type RowValue = fn(&TcpConnection) -> Option<Value>;

enum Value {
    Micros(u64),
    Count(u64),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match *self {
            Value::Micros(us) => Seconds(us).fmt(f),
            Value::Count(n) => n.fmt(f),
        }
    }
}

/// Microseconds as exact decimal seconds, e.g. `12.345678`.
struct Seconds(u64);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// `appliance_GROUP_NAME` (`_total` for counters), with characters
/// outside `[a-zA-Z0-9_:]` replaced by `_`.
struct GroupMetricName<'a> {
    group: &'a str,
    name: &'a str,
    kind: MetricKind,
}

impl fmt::Display for GroupMetricName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("appliance_")?;
        for (i, part) in [self.group, self.name].into_iter().enumerate() {
            if i > 0 {
                f.write_char('_')?;
            }
            for c in part.chars() {
                f.write_char(if c.is_ascii_alphanumeric() || c == '_' || c == ':' { c } else { '_' })?;
            }
        }
        match self.kind {
            MetricKind::Counter => f.write_str("_total"),
            MetricKind::Gauge => Ok(()),
        }
    }
}

/// A label value: `\`, `"` and newline escaped.
struct Label<T>(T);

impl<T: fmt::Display> fmt::Display for Label<T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(Escaper { f, quote: true }, "{}", self.0)
    }
}

/// `# HELP` text: `\` and newline escaped.
struct Help<'a>(&'a str);

impl fmt::Display for Help<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        Escaper { f, quote: false }.write_str(self.0)
    }
}

struct Escaper<'a, 'b> {
    f: &'a mut fmt::Formatter<'b>,
    quote: bool,
}

impl Write for Escaper<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '\\' => self.f.write_str("\\\\")?,
                '\n' => self.f.write_str("\\n")?,
                '"' if self.quote => self.f.write_str("\\\"")?,
                c => self.f.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::stats::fixture::FixedStats;
    use std::vec;
    use std::vec::Vec;

    fn render_to(source: &FixedStats, cap: usize) -> (Result<Completeness, fmt::Error>, Vec<u8>) {
        let mut buf = vec![0u8; cap];
        let mut w = SliceWriter::new(&mut buf);
        let r = render(source, "0.1.0", &mut w);
        let out = w.written().to_vec();
        (r, out)
    }

    const EXPECTED_TWO: &str = r#"# HELP appliance_info Version and addresses of the appliance (always 1).
# TYPE appliance_info gauge
appliance_info{version="0.1.0",mac="52:54:00:12:34:56",ipv4="10.0.2.15/24",gateway="10.0.2.2",address_source="dhcp"} 1
# HELP appliance_uptime_seconds Time since boot.
# TYPE appliance_uptime_seconds gauge
appliance_uptime_seconds 12.345678
# HELP appliance_link_up Whether the NIC driver is up and passing frames (1) or not (0).
# TYPE appliance_link_up gauge
appliance_link_up 1
# HELP appliance_nic_rx_ring_size Descriptors in the NIC receive ring.
# TYPE appliance_nic_rx_ring_size gauge
appliance_nic_rx_ring_size 256
# HELP appliance_nic_rx_ring_posted Receive buffers posted to the NIC.
# TYPE appliance_nic_rx_ring_posted gauge
appliance_nic_rx_ring_posted 255
# HELP appliance_nic_tx_ring_size Descriptors in the NIC transmit ring.
# TYPE appliance_nic_tx_ring_size gauge
appliance_nic_tx_ring_size 256
# HELP appliance_nic_tx_ring_in_flight Transmit descriptors owned by the NIC.
# TYPE appliance_nic_tx_ring_in_flight gauge
appliance_nic_tx_ring_in_flight 3
# HELP appliance_ethernet_rx_frames_total ethernet rx_frames
# TYPE appliance_ethernet_rx_frames_total counter
appliance_ethernet_rx_frames_total 10
# HELP appliance_ethernet_tx_frames_total ethernet tx_frames
# TYPE appliance_ethernet_tx_frames_total counter
appliance_ethernet_tx_frames_total 9
# HELP appliance_tcp_rx_segments_total TCP segments received.
# TYPE appliance_tcp_rx_segments_total counter
appliance_tcp_rx_segments_total 7
# HELP appliance_tcp_listeners tcp listeners
# TYPE appliance_tcp_listeners gauge
appliance_tcp_listeners 2
# HELP appliance_tcp_connections TCP connections (listeners excluded).
# TYPE appliance_tcp_connections gauge
appliance_tcp_connections 2
# HELP appliance_tcp_connection_info TCP connection and its state (always 1).
# TYPE appliance_tcp_connection_info gauge
appliance_tcp_connection_info{local="10.0.2.15:80",remote="10.0.2.2:40000",state="ESTABLISHED"} 1
appliance_tcp_connection_info{local="10.0.2.15:80",remote="10.0.2.2:40001",state="ESTABLISHED"} 1
# HELP appliance_tcp_connection_srtt_seconds Smoothed round-trip time.
# TYPE appliance_tcp_connection_srtt_seconds gauge
appliance_tcp_connection_srtt_seconds{local="10.0.2.15:80",remote="10.0.2.2:40001"} 0.001501
# HELP appliance_tcp_connection_rttvar_seconds Round-trip time variation.
# TYPE appliance_tcp_connection_rttvar_seconds gauge
appliance_tcp_connection_rttvar_seconds{local="10.0.2.15:80",remote="10.0.2.2:40000"} 0.000750
appliance_tcp_connection_rttvar_seconds{local="10.0.2.15:80",remote="10.0.2.2:40001"} 0.000750
# HELP appliance_tcp_connection_rto_seconds Retransmission timeout.
# TYPE appliance_tcp_connection_rto_seconds gauge
appliance_tcp_connection_rto_seconds{local="10.0.2.15:80",remote="10.0.2.2:40000"} 1.000000
appliance_tcp_connection_rto_seconds{local="10.0.2.15:80",remote="10.0.2.2:40001"} 1.000000
# HELP appliance_tcp_connection_cwnd_bytes Congestion window.
# TYPE appliance_tcp_connection_cwnd_bytes gauge
appliance_tcp_connection_cwnd_bytes{local="10.0.2.15:80",remote="10.0.2.2:40000"} 14600
appliance_tcp_connection_cwnd_bytes{local="10.0.2.15:80",remote="10.0.2.2:40001"} 14600
# HELP appliance_tcp_connection_ssthresh_bytes Slow-start threshold.
# TYPE appliance_tcp_connection_ssthresh_bytes gauge
appliance_tcp_connection_ssthresh_bytes{local="10.0.2.15:80",remote="10.0.2.2:40000"} 65535
appliance_tcp_connection_ssthresh_bytes{local="10.0.2.15:80",remote="10.0.2.2:40001"} 65535
# HELP appliance_tcp_connection_bytes_in_flight Bytes sent and not yet acknowledged.
# TYPE appliance_tcp_connection_bytes_in_flight gauge
appliance_tcp_connection_bytes_in_flight{local="10.0.2.15:80",remote="10.0.2.2:40000"} 0
appliance_tcp_connection_bytes_in_flight{local="10.0.2.15:80",remote="10.0.2.2:40001"} 0
# HELP appliance_tcp_connection_retransmits_total Segments retransmitted.
# TYPE appliance_tcp_connection_retransmits_total counter
appliance_tcp_connection_retransmits_total{local="10.0.2.15:80",remote="10.0.2.2:40000"} 0
appliance_tcp_connection_retransmits_total{local="10.0.2.15:80",remote="10.0.2.2:40001"} 1
"#;

    #[test]
    fn renders_the_exact_exposition() {
        let (r, out) = render_to(&FixedStats::new(2), 8192);
        assert_eq!(r, Ok(Completeness::Complete));
        assert_eq!(std::str::from_utf8(&out).unwrap(), EXPECTED_TWO);
    }

    #[test]
    fn label_values_and_names_are_escaped() {
        let mut stats = FixedStats::new(1);
        stats.state = "A\"B\\C\nD";
        let (_, out) = render_to(&stats, 8192);
        let out = std::str::from_utf8(&out).unwrap();
        assert!(out.contains(r#",state="A\"B\\C\nD"} 1"#), "{out}");
        let name = GroupMetricName { group: "ip v4", name: "rx-bad.sum", kind: MetricKind::Counter };
        assert_eq!(std::format!("{name}"), "appliance_ip_v4_rx_bad_sum_total");
        assert_eq!(std::format!("{}", Help("a\\b\nc\"d")), "a\\\\b\\nc\"d");
    }

    #[test]
    fn seconds_are_exact() {
        assert_eq!(std::format!("{}", Seconds(0)), "0.000000");
        assert_eq!(std::format!("{}", Seconds(1_000_001)), "1.000001");
        assert_eq!(std::format!("{}", Seconds(u64::MAX)), "18446744073709.551615");
    }

    #[test]
    fn every_buffer_size_gives_whole_lines_of_the_full_exposition() {
        let source = FixedStats::new(3);
        let full = render_to(&source, 16384).1;
        assert!(full.len() < 16384);
        for cap in 0..=full.len() + 1 {
            let (r, out) = render_to(&source, cap);
            assert!(out.len() <= cap);
            match r {
                Err(_) => assert!(cap < TRUNCATED_NOTE.len(), "cap {cap}"),
                Ok(Completeness::Complete) => {
                    assert!(cap >= full.len(), "cap {cap}");
                    assert_eq!(out, full);
                }
                Ok(Completeness::Truncated) => {
                    assert!(cap < full.len(), "cap {cap}");
                    let kept = out.strip_suffix(TRUNCATED_NOTE.as_bytes()).expect("note");
                    assert!(full.starts_with(kept), "cap {cap}");
                    assert!(kept.is_empty() || kept.ends_with(b"\n"), "cap {cap}");
                }
            }
        }
    }
}
