//! Operator commands: `kraftd status` (node and cluster health over the Kafka protocol) and
//! `kraftd smoke-test` (create/produce/consume/verify/delete) and their options (the command line is
//! the `kraftd` binary's); both talk to Kafka through `crate::kafka`.

pub mod smoke;
pub mod status;

use crate::exit;
use crate::kafka::Timeouts;
use status::{Health, StatusTarget};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where to point the operator commands: the local node from kraftd.toml, or any broker.
#[derive(Debug, Clone)]
pub struct TargetOptions {
    /// kraftd.toml of the local node (its advertised address, broker port, node id, cluster id).
    pub config: PathBuf,
    /// Ask this broker listener instead of the local node; `config` is then ignored.
    pub bootstrap: Option<String>,
}

/// What `kraftd status` was asked.
#[derive(Debug, Clone)]
pub struct StatusOptions {
    pub target: TargetOptions,
    /// Print JSON (docs/status.schema.json) instead of text.
    pub json: bool,
    /// Check every second until healthy or `timeout` seconds have passed.
    pub wait_healthy: bool,
    /// Seconds `wait_healthy` waits.
    pub timeout: u64,
}

/// What `kraftd smoke-test` was asked.
#[derive(Debug, Clone)]
pub struct SmokeTestOptions {
    pub target: TargetOptions,
    /// Records to produce and read back.
    pub records: u32,
    /// Partitions of the test topic.
    pub partitions: u32,
    /// Leave the test topic in place.
    pub keep: bool,
    /// Seconds each step may wait.
    pub timeout: u64,
}

/// A configuration problem: exit 78 with the message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TargetError(String);

/// Resolve the status target: `--bootstrap` as given, else the local node from kraftd.toml.
pub fn status_target(args: &TargetOptions) -> Result<StatusTarget, TargetError> {
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
    let settings = crate::installed::load_settings(&args.config).map_err(|e| {
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
pub fn run_status(args: &StatusOptions) -> i32 {
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
pub fn run_smoke_test(args: &SmokeTestOptions) -> i32 {
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
