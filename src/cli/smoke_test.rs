//! `kraftd smoke-test`: its arguments and --help text; the steps are `kraftd::ops::smoke`.

use super::TargetArgs;
use kraftd::ops::{self, SmokeTestOptions};

/// Exit codes of `kraftd smoke-test`, for --help.
pub const SMOKE_HELP: &str = "\
Steps: connect, create topic, produce, consume, verify, delete topic. A failure names its step
and why, and the topic is still deleted unless --keep.

Exit codes:
  0   every step passed
  1   a step failed (the message names it)
  2   command-line usage error; also a controller-only node without --bootstrap (it has no
      client listener: name a broker with --bootstrap HOST:PORT)
  78  kraftd.toml is missing or invalid (give --bootstrap to test any cluster instead)";

/// `kraftd smoke-test` arguments.
#[derive(clap::Args, Debug)]
pub struct SmokeTestArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Records to produce and read back.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub records: u32,
    /// Partitions of the test topic (order is checked per partition).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub partitions: u32,
    /// Leave the test topic in place (its name is printed).
    #[arg(long)]
    pub keep: bool,
    /// Seconds each step may wait (leaders, acks=all, records to arrive).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
}

impl From<&SmokeTestArgs> for SmokeTestOptions {
    fn from(args: &SmokeTestArgs) -> SmokeTestOptions {
        SmokeTestOptions {
            target: (&args.target).into(),
            records: args.records,
            partitions: args.partitions,
            keep: args.keep,
            timeout: args.timeout,
        }
    }
}

/// Run the smoke test, printing each step; returns the exit code of its outcome.
pub fn run(args: &SmokeTestArgs) -> i32 {
    ops::run_smoke_test(&args.into())
}
