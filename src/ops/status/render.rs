//! Rendering for `kraftd status`: the human form of a `NodeStatus`, at most 80 columns a line,
//! the verdict first, problems wrapped whole. (The JSON form is `NodeStatus`'s serde.)

use super::*;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// The human form: at most 80 columns per line.
pub fn render_text(status: &NodeStatus) -> String {
    let mut out = String::new();
    let verdict = match status.health {
        Health::Healthy => "HEALTHY",
        Health::Degraded => "DEGRADED",
        Health::Unreachable => "UNREACHABLE",
    };
    let id = status
        .node
        .id
        .map(|i| format!("node {i}"))
        .unwrap_or_else(|| "node ?".into());
    let roles = if status.node.roles.is_empty() {
        "role ?".to_string()
    } else {
        status.node.roles.join(",")
    };
    // The verdict first, so a cut line never hides it.
    let _ = writeln!(
        out,
        "{}",
        fit(&format!("{verdict}: {id} ({roles}) at {}", status.target))
    );
    let row = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(out, "{}", fit(&format!("  {label:<14}{value}")));
    };
    row(
        &mut out,
        "advertised",
        &status.node.advertised_listeners.join(", "),
    );
    if let Some(err) = &status.node.error {
        wrap(&mut out, "  error         ", err);
    }
    let is_broker = status.node.roles.iter().any(|r| r == "broker") || status.node.roles.is_empty();
    let registered = match status.node.registered {
        Some(true) => "yes (unfenced)",
        Some(false) => "NO (not among the live brokers)",
        None if !is_broker => "n/a (controller-only: no client listener)",
        None => "unknown",
    };
    row(
        &mut out,
        "reachable",
        if status.node.reachable { "yes" } else { "NO" },
    );
    row(&mut out, "registered", registered);
    if let Some((addr, answer)) = &status.controller_listener {
        let text = match answer {
            Ok(()) => format!("{addr} answers"),
            Err(e) => format!("{addr} does NOT answer: {e}"),
        };
        wrap(&mut out, "  controller    ", &text);
    }
    if let (Some(id), Some(q)) = (status.node.id, &status.quorum)
        && status.node.roles.iter().any(|r| r == "controller")
    {
        let membership = if q.leader_id == id {
            "voter, the quorum leader".to_string()
        } else if let Some(v) = q.voters.iter().find(|v| v.id == id) {
            let lag = v.lag.map(|l| l.to_string()).unwrap_or_else(|| "?".into());
            format!("voter, following leader {}, lag {lag}", q.leader_id)
        } else {
            "NOT a voter".to_string()
        };
        row(&mut out, "membership", &membership);
    }
    if let Some(c) = &status.cluster {
        row(&mut out, "cluster id", c.id.as_deref().unwrap_or("?"));
        let brokers: Vec<String> = c
            .brokers
            .iter()
            .map(|b| format!("{}@{}:{}", b.id, b.host, b.port))
            .collect();
        row(
            &mut out,
            "brokers",
            &format!("{}: {}", c.brokers.len(), brokers.join(" ")),
        );
        row(
            &mut out,
            "topics",
            &format!(
                "{} topics, {} partitions, {} under-replicated, {} offline",
                c.topics, c.partitions, c.under_replicated_partitions, c.offline_partitions
            ),
        );
    }
    if let Some(q) = &status.quorum {
        let leader = if q.leader_id < 0 {
            "none".to_string()
        } else {
            q.leader_id.to_string()
        };
        row(
            &mut out,
            "quorum",
            &format!(
                "leader {leader}, epoch {}, high watermark {}",
                q.leader_epoch, q.high_watermark
            ),
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let _ = writeln!(
            out,
            "    {:<10}{:>8}  {:>16}  {:>8}  last fetch",
            "replica", "id", "log end offset", "lag"
        );
        for (kind, replicas) in [("voter", &q.voters), ("observer", &q.observers)] {
            for r in replicas {
                let lag = r.lag.map(|l| l.to_string()).unwrap_or_else(|| "?".into());
                let fetch = r
                    .last_fetch_timestamp_ms
                    .map(|t| format!("{:.1}s ago", (now - t).max(0) as f64 / 1000.0))
                    .unwrap_or_else(|| "?".into());
                let line = format!(
                    "    {kind:<10}{:>8}  {:>16}  {lag:>8}  {fetch}",
                    r.id, r.log_end_offset
                );
                let _ = writeln!(out, "{}", fit(&line));
            }
        }
    } else if let Some(e) = &status.quorum_error {
        wrap(&mut out, "  quorum        ", &format!("unknown: {e}"));
    }
    for p in &status.problems {
        wrap(&mut out, "problem: ", p);
    }
    out
}

/// Word-wrap `text` to 80 columns after `first` (continuation lines indented as deep), for
/// messages that must be read whole.
fn wrap(out: &mut String, first: &str, text: &str) {
    let indent = " ".repeat(first.chars().count());
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > 80 {
            let _ = writeln!(out, "{}", fit(&line));
            line = indent.clone();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    let _ = writeln!(out, "{}", fit(&line));
}

/// Cut a line to 80 columns (…-marked) so the human form never wraps.
fn fit(line: &str) -> String {
    if line.chars().count() <= 80 {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(79).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::status::test_support::sample;

    #[test]
    fn text_fits_80_columns_and_keeps_whole_problems() {
        let text = render_text(&sample(Health::Degraded));
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        assert!(text.contains("DEGRADED"));
        // The problem is wrapped, not cut: every word survives.
        let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            joined.contains("nothing listens there (is Kafka running?)"),
            "{text}"
        );
    }
}
