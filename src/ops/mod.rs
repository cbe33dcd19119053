//! Operator commands: `kraftd status` (node and cluster health over the Kafka protocol) and
//! `kraftd smoke-test` (create/produce/consume/verify/delete), their command-line arguments, and
//! the Kafka-protocol client they share.

pub mod client;
pub mod smoke;
pub mod status;

use crate::config::DEFAULT_CONFIG_PATH;
use crate::{Settings, exit};
use client::Timeouts;
use status::{Health, StatusTarget};
use std::path::PathBuf;
use std::time::{Duration, Instant};

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

/// Where to point the operator commands: the local node from kraftd.toml, or any broker.
#[derive(clap::Args, Debug, Clone)]
pub struct TargetArgs {
    /// kraftd.toml of the local node (its advertised address, broker port, node id, cluster id).
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Ask this broker listener instead of the local node (any Kafka 3.7+ cluster); ignores --config.
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap: Option<String>,
}

/// `kraftd status` arguments.
#[derive(clap::Args, Debug, Clone)]
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

/// `kraftd smoke-test` arguments.
#[derive(clap::Args, Debug, Clone)]
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

/// A configuration problem: exit 78 with the message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TargetError(String);

/// Resolve the status target: `--bootstrap` as given, else the local node from kraftd.toml.
pub fn status_target(args: &TargetArgs) -> Result<StatusTarget, TargetError> {
    if let Some(bootstrap) = &args.bootstrap {
        return Ok(StatusTarget {
            bootstrap: bootstrap.clone(),
            node_id: None,
            roles: None,
            advertised_listeners: None,
            expected_cluster_id: None,
            controller: None,
            voters: Vec::new(),
        });
    }
    let settings = Settings::load(&args.config).map_err(|e| {
        TargetError(format!(
            "{e}\n(or give --bootstrap HOST:PORT to ask a broker directly)"
        ))
    })?;
    let role = settings.role;
    let listeners = settings.listeners();
    let mut roles = Vec::new();
    let mut advertised = Vec::new();
    if role.is_broker() {
        roles.push("broker".to_string());
        advertised.extend(listeners.broker.as_ref().map(|e| e.advertised_url()));
    }
    if role.is_controller() {
        roles.push("controller".to_string());
    }
    let controller = listeners.controller.as_ref().map(|e| e.dial().to_string());
    if role == crate::config::Role::Controller {
        // Nothing is advertised to clients; the voter set names this node's controller listener.
        advertised.extend(listeners.controller.as_ref().map(|e| e.advertised_url()));
    }
    let voters = settings
        .effective_voters()
        .iter()
        .map(|v| (v.id.0 as i32, format!("{}:{}", v.host, v.port)))
        .collect();
    Ok(StatusTarget {
        // A controller-only node has no client listener: its controller listener is the target.
        bootstrap: listeners.primary().dial().to_string(),
        node_id: Some(settings.node_id.0 as i32),
        roles: Some(roles),
        advertised_listeners: Some(advertised),
        expected_cluster_id: settings.cluster_id.as_ref().map(|c| c.to_string()),
        controller,
        voters,
    })
}

/// `kraftd status`: print the status and return the exit code.
pub fn run_status(args: &StatusArgs) -> i32 {
    let target = match status_target(&args.target) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("kraftd status: {e}");
            return exit::CONFIG;
        }
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(2),
        io: Duration::from_secs(10),
    };
    // --timeout bounds the whole wait: every connect, request and response ends by then.
    let deadline = args
        .wait_healthy
        .then(|| Instant::now() + Duration::from_secs(args.timeout));
    let mut last_line = String::new();
    let status = loop {
        let status = status::collect(&target, timeouts, deadline);
        let out_of_time = deadline.is_none_or(|d| Instant::now() + Duration::from_secs(1) >= d);
        if !args.wait_healthy || status.health == Health::Healthy || out_of_time {
            break status;
        }
        // Progress on stderr, once per change, so logs of a long wait stay short.
        let line = format!(
            "kraftd status: waiting for {} to become healthy: {}",
            target.bootstrap,
            status.problems.first().map(String::as_str).unwrap_or("?")
        );
        if line != last_line {
            eprintln!("{line}");
            last_line = line;
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&status).expect("status serializes")
        );
    } else {
        print!("{}", status::render_text(&status));
    }
    if status.health == Health::Unreachable {
        eprintln!(
            "kraftd status: {} is unreachable: {}",
            status.target,
            status.node.error.as_deref().unwrap_or("no answer")
        );
    }
    if args.wait_healthy && status.health != Health::Healthy {
        eprintln!(
            "kraftd status: not healthy after {}s; gave up (--timeout {})",
            args.timeout, args.timeout
        );
    }
    status.health.exit_code()
}

/// `kraftd smoke-test`: run it, print each step, return the exit code.
pub fn run_smoke_test(args: &SmokeTestArgs) -> i32 {
    let bootstrap = match (&args.target.bootstrap, status_target(&args.target)) {
        (Some(b), _) => b.clone(),
        (None, Ok(t)) if t.is_controller_only() => {
            eprintln!(
                "kraftd smoke-test: node {} in {} is a controller-only node (role = \"controller\"): \
                 it has no client listener to produce to. Name a broker of the cluster: \
                 kraftd smoke-test --bootstrap BROKER_HOST:9092",
                t.node_id.unwrap_or(-1),
                args.target.config.display()
            );
            return exit::USAGE;
        }
        (None, Ok(t)) => t.bootstrap,
        (None, Err(e)) => {
            eprintln!("kraftd smoke-test: {e}");
            return exit::CONFIG;
        }
    };
    let opts = smoke::SmokeOptions {
        bootstrap: bootstrap.clone(),
        records: args.records,
        partitions: args.partitions,
        step_timeout: Duration::from_secs(args.timeout),
        keep: args.keep,
        topic: None,
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(3),
        io: Duration::from_secs(args.timeout + 10),
    };
    println!("smoke-test against {bootstrap}");
    let mut progress =
        |step: smoke::Step, text: String| println!("  {:<13} ok: {text}", step.to_string());
    match smoke::run(&opts, timeouts, &mut progress) {
        Ok(report) => {
            if !report.deleted {
                println!("  kept topic {} (--keep)", report.topic);
            }
            println!("smoke-test passed");
            exit::OK
        }
        Err(e) => {
            eprintln!("kraftd {e}");
            exit::FAILURE
        }
    }
}
