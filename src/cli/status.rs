//! `kraftd status`: its arguments and --help text; the checks are `kraftd::ops::status`.

use super::TargetArgs;
use kraftd::ops::{self, StatusOptions};

/// Exit codes and output of `kraftd status`, for --help.
pub const STATUS_HELP: &str = "\
Each role is checked by its own truth (roles from kraftd.toml):
  broker      its client listener answers and lists this node among the live (unfenced)
              brokers, no partition is offline or under-replicated, the quorum (as the broker
              sees it) has a leader
  controller  its own controller listener answers, it is a voter, and the quorum leader
              received a fetch from it within the last 5 s (or it is the leader); a
              controller-only node dials no broker port
  combined    both

Exit codes:
  0   healthy: every check of this node's roles holds
  1   degraded: reachable, but a check does not hold (see the `problem:` lines)
  2   unreachable: no Kafka-protocol answer from the node's listener (the broker listener, or
      a controller-only node's controller listener: stopped, starting, hung, wrong address);
      also for command-line usage errors and --wait-healthy giving up on such a node
  78  kraftd.toml is missing or invalid (give --bootstrap to ask any broker instead)

--wait-healthy --timeout N bounds the whole wait, every connect and request included.

--json prints one JSON document per check (schema: docs/status.schema.json, `schema_version` 1).";

/// `kraftd status` arguments.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print JSON (docs/status.schema.json) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Check every second until healthy (exit 0) or --timeout passes (exit 1 or 2, last status).
    #[arg(long)]
    pub wait_healthy: bool,
    /// Seconds --wait-healthy waits.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 120,
        requires = "wait_healthy"
    )]
    pub timeout: u64,
}

impl From<&StatusArgs> for StatusOptions {
    fn from(args: &StatusArgs) -> StatusOptions {
        StatusOptions {
            target: (&args.target).into(),
            json: args.json,
            wait_healthy: args.wait_healthy,
            timeout: args.timeout,
        }
    }
}

/// Print the status; returns the exit code of its outcome (healthy, degraded, unreachable, config).
pub fn run(args: &StatusArgs) -> i32 {
    ops::run_status(&args.into())
}
