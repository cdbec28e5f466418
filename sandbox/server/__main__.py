"""``python -m sandbox.server``: the sandbox's server process.

Its owner (the notebook's ``sandbox.start()``, or ``course serve``) passes two file descriptors:
``--ready-fd``, where the server writes one JSON line once it answers (its endpoint, token and
pid), and ``--owner-fd``, the read end of a pipe whose write end only the owner holds. When the
owner ends, however it ends (``kill -9`` included), that pipe reads end of file and the server
ends every process it started, then itself.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import threading

from ..accounts import ACCOUNT_ID
from ..clock import DEFAULT_SPEED

CLIENT_FOLDER_PREFIX = "serverless-sandbox-client-"  # sandbox/client.py makes these

BANNER = """Serverless Sandbox running at {endpoint} (account {account}, {region}).

Any AWS SDK or the AWS CLI reaches it with:

    export AWS_ENDPOINT_URL={endpoint}
    export AWS_ACCESS_KEY_ID={key}
    export AWS_SECRET_ACCESS_KEY={secret}
    export AWS_DEFAULT_REGION={region}
    aws lambda list-functions

A notebook or script uses this sandbox, instead of starting its own, when sandbox.start()
finds:

    export SANDBOX_ENDPOINT={endpoint}
    export SANDBOX_TOKEN={token}

Press Ctrl+C to stop it.
"""


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox.server",
                                     description="The Serverless Sandbox's server.")
    parser.add_argument("--port", type=int, default=0, help="loopback port (0: a free one)")
    parser.add_argument("--clock-speed", type=float, default=DEFAULT_SPEED)
    parser.add_argument("--concurrency-limit", type=int, default=1000)
    parser.add_argument("--no-enforce-iam", action="store_true")
    parser.add_argument("--lock-iam", action="store_true",
                        help="a learner's token cannot turn IAM enforcement off (grading)")
    parser.add_argument("--ready-fd", type=int, default=None)
    parser.add_argument("--owner-fd", type=int, default=None)
    parser.add_argument("--banner", action="store_true",
                        help="tell a person how to use it (course serve), not a JSON line")
    return parser.parse_args(argv)


def _watch_owner(fd: int, end: threading.Event) -> None:
    """Read the owner's pipe until it closes: the owner is gone."""
    while True:
        try:
            if not os.read(fd, 4096):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    end.set()


def _remove_owner_folder() -> None:
    """The owning client's folder (its server log and empty AWS config), named by the log's
    path: only a folder of the client's own making is removed."""
    import shutil

    log = os.environ.get("SANDBOX_SERVER_LOG", "")
    folder = os.path.dirname(log)
    if log and os.path.basename(folder).startswith(CLIENT_FOLDER_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    from . import processes
    from .service import SandboxService

    args = parse(argv)
    processes.become_subreaper()
    token = os.environ.pop("SANDBOX_TOKEN", "") or secrets.token_urlsafe(24)
    # a second, weaker token for a notebook's kernel when another process owns this server
    learner_token = os.environ.pop("SANDBOX_LEARNER_TOKEN", "") or secrets.token_urlsafe(24)
    service = SandboxService(clock_speed=args.clock_speed,
                             concurrency_limit=args.concurrency_limit,
                             enforce_iam=not args.no_enforce_iam, token=token, port=args.port,
                             learner_token=learner_token, iam_locked=args.lock_iam)
    try:
        service.start()
    except OSError as error:  # the port is taken, most likely
        print(f"The sandbox cannot listen on 127.0.0.1:{args.port}: {error.strerror or error}. "
              "Pass another --port, or 0 for a free one.", file=sys.stderr)
        service.stop()
        return 2
    owner_gone = threading.Event()
    if args.owner_fd is not None:
        threading.Thread(target=_watch_owner, args=(args.owner_fd, owner_gone),
                         name="sandbox-owner", daemon=True).start()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: owner_gone.set())
    ready = json.dumps({**service.describe(), "token": token,
                        "learner_token": learner_token}) + "\n"
    if args.ready_fd is not None:
        os.write(args.ready_fd, ready.encode())
        os.close(args.ready_fd)
    elif args.banner:
        sys.stdout.write(BANNER.format(endpoint=service.endpoint_url, token=token,
                                       account=service.account_id, region=service.region,
                                       key=service.admin_keys[ACCOUNT_ID].access_key_id,
                                       secret=service.admin_keys[ACCOUNT_ID].secret_access_key))
        sys.stdout.flush()
    else:
        sys.stdout.write(ready)
        sys.stdout.flush()
    # no reaping meanwhile: waitpid(-1) would take the exit status of a worker that its
    # subprocess.Popen is about to read (Popen then reports 0, and a crash reads as a clean exit);
    # an orphan reparented here stays a zombie until the end, when kill_descendants reaps it
    while not (owner_gone.wait(0.5) or service.stopped):
        pass
    if not service.stopped:
        # the owner is gone: nothing it started may outlive it; a graceful stop is a bonus
        stopper = threading.Thread(target=service.stop, daemon=True)
        stopper.start()
        stopper.join(3)
    processes.kill_descendants()
    service.remove_work_dir()
    if owner_gone.is_set() and args.owner_fd is not None:
        _remove_owner_folder()  # an owner that died cannot clean up after itself
    if args.banner:
        print("Stopped.", flush=True)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
