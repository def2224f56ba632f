"""`archiefstroom stack up|down|status [--broker tansu|kafka]`: the embedded broker and S3 server."""
from __future__ import annotations

from archiefstroom import stack
from archiefstroom.ground import config


def register(sub):
    p = sub.add_parser("stack", help="start, stop or inspect the embedded broker (Tansu or Apache Kafka) and S3 server (SeaweedFS)")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--broker", choices=["tansu", "kafka"],
                   help="which broker (overrides stack.broker): Tansu, or Apache Kafka 4.x in KRaft mode")
    p.set_defaults(func=run)


def run(args) -> int:
    cfg = config.load(args.config)
    if args.broker:
        cfg.stack.broker = args.broker
    if args.action == "up":
        stack.up(cfg)
        print(f"stack is up: Kafka {cfg.kafka.bootstrap_servers[0]}, S3 {cfg.s3.endpoint_url}, data in {cfg.data_dir}")
    elif args.action == "down":
        stack.down(cfg)
    else:
        services = stack.status(cfg)
        for s in services:
            print(f"{s.name:10} {'up' if s.alive else 'down':5} 127.0.0.1:{s.port}  pid {s.pid or '-'}")
        return 0 if all(s.alive for s in services) else 1
    return 0
