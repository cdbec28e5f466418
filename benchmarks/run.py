"""The sandbox's benchmarks (``make bench``): each figure against a baseline measured in the same
run, on this machine, with the target the foundation issue sets."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

TRIVIAL = "def handler(event, context):\n    return event\n"
ROWS: list[tuple[str, str, str, str, bool]] = []


def row(figure: str, measured: str, baseline: str, target: str, met: bool) -> None:
    ROWS.append((figure, measured, baseline, target, met))
    print(f"  {figure}: {measured} (baseline {baseline}) target {target}: "
          f"{'met' if met else 'MISSED'}", flush=True)


def median_row(figure: str, measured: list[float], baseline_name: str,
               baseline: list[float], limit: float, unit: str = "ms") -> None:
    """A row comparing two medians (seconds in, shown in ``unit``) against ``<= limit``x."""
    scale, digits = (1000, 1) if unit == "ms" else (1, 2)
    ours, theirs = statistics.median(measured), statistics.median(baseline)
    ratio = ours / theirs
    row(figure, f"{ours * scale:.{digits}f} {unit} = {ratio:.2f}x",
        f"{baseline_name} {theirs * scale:.{digits}f} {unit}", f"<= {limit:g}x", ratio <= limit)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(call, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def bench_warm(lam) -> None:
    from sandbox.testing import deploy

    deploy("bench-warm", TRIVIAL)
    for _ in range(20):
        lam.invoke(FunctionName="bench-warm", Payload=b"{}")
    invoke = timed(lambda: lam.invoke(FunctionName="bench-warm", Payload=b"{}"), 400)
    baseline = timed(lambda: lam.get_function(FunctionName="bench-warm"), 400)
    for name, p in (("median", 50), ("p95", 95)):
        ratio = percentile(invoke, p) / percentile(baseline, p)
        row(f"warm invoke {name}", f"{percentile(invoke, p) * 1000:.2f} ms = {ratio:.2f}x",
            f"get_function {percentile(baseline, p) * 1000:.2f} ms", "<= 2x", ratio <= 2)


def bench_cold(lam) -> None:
    from sandbox.testing import deploy

    module = "import json, decimal, uuid\nVALUE = 1\n" + TRIVIAL
    colds = []
    for i in range(15):
        deploy(f"bench-cold-{i}", module)
        time.sleep(0.3)  # as in a notebook: the next spare interpreter is ready by now
        started = time.perf_counter()
        lam.invoke(FunctionName=f"bench-cold-{i}", Payload=b"{}")
        colds.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as task:
        with open(os.path.join(task, "app.py"), "w") as f:
            f.write(module)
        spawn = timed(lambda: subprocess.run(
            [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, '.'); import app"],
            cwd=task, check=True), 15)
    median_row("cold start (first invoke after create), median", colds,
               "spawn interpreter + import module", spawn, 1.5)


def bench_throughput(lam_factory) -> None:
    from sandbox.testing import deploy

    deploy("bench-load", TRIVIAL)
    errors: list[str] = []
    answered = []
    lock = threading.Lock()

    clients = [lam_factory() for _ in range(20)]  # made beforehand: invokes are what is timed

    def worker(start: int) -> None:
        lam = clients[start // 50]
        for n in range(start, start + 50):
            try:
                response = lam.invoke(FunctionName="bench-load",
                                      Payload=json.dumps({"n": n}).encode())
                payload = json.loads(response["Payload"].read())
                if response.get("FunctionError") or payload != {"n": n}:
                    raise AssertionError(f"invoke {n} answered {payload}")
                with lock:
                    answered.append(n)
            except Exception as e:  # counted, not raised: the figure says how many
                with lock:
                    errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i * 50,)) for i in range(20)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    rate = len(answered) / elapsed
    lost = 1000 - len(set(answered))
    row("1,000 invokes from 20 threads",
        f"{rate:.0f} invokes/s, {lost} lost, {len(errors)} errors", "none",
        ">= 100/s, none lost, no errors", rate >= 100 and lost == 0 and not errors)


def bench_api_gateway(lam) -> None:
    """A request through a deployed REST API (Lambda proxy) against a direct boto3 invoke of
    the same function, both warm, in the same run."""
    import boto3
    import requests

    import sandbox
    from sandbox.testing import deploy

    arn = deploy("bench-api", "def handler(event, context):\n"
                              "    return {'statusCode': 200, 'body': 'ok'}\n")
    apigw = boto3.client("apigateway")
    api = apigw.create_rest_api(name="bench")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api, resourceId=root, httpMethod="GET", type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations")
    apigw.create_deployment(restApiId=api, stageName="prod")
    lam.add_permission(FunctionName="bench-api", StatementId="apigw",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:us-east-1:123456789012:{api}/*")
    url = sandbox.current().api_url(api, "prod") + "/"
    http = requests.Session()

    def through_api() -> None:
        response = http.get(url)
        if response.status_code != 200 or response.text != "ok":
            raise AssertionError(f"API Gateway answered {response.status_code} {response.text}")

    for _ in range(20):
        through_api()
        lam.invoke(FunctionName="bench-api", Payload=b"{}")
    api_times, invoke_times = [], []
    for _ in range(300):  # interleaved, so that both see the same machine load
        api_times += timed(through_api, 1)
        invoke_times += timed(lambda: lam.invoke(FunctionName="bench-api", Payload=b"{}"), 1)
    median_row("HTTP request through API Gateway (Lambda proxy), median", api_times,
               "boto3 invoke of the same function", invoke_times, 1.5)


def bench_step_functions(lam) -> None:
    """A 10-state workflow (9 Lambda tasks and a one-hour Wait): the wall time of an execution,
    and the time per Lambda task state against direct invokes of the same function."""
    import boto3

    import sandbox
    from sandbox.testing import deploy, execution_role

    sb = sandbox.current()
    arn = deploy("bench-step", "def handler(event, context):\n"
                               "    return {'n': event.get('n', 0) + 1}\n")
    states = {f"Task{i}": {"Type": "Task", "Resource": arn, "Next": f"Task{i + 1}"}
              for i in range(1, 10)}
    states["Task4"]["Next"] = "Wait"
    states["Wait"] = {"Type": "Wait", "Seconds": 3600, "Next": "Task5"}
    states["Task9"] = {"Type": "Task", "Resource": arn, "End": True}
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="bench", roleArn=execution_role("bench-states", "lambda:InvokeFunction",
                                             service="states.amazonaws.com"),
        definition=json.dumps({"StartAt": "Task1", "States": states}))["stateMachineArn"]

    def execute() -> None:
        execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        while (described := sfn.describe_execution(executionArn=execution))["status"] == \
                "RUNNING":
            time.sleep(0.005)
        if described["status"] != "SUCCEEDED" or json.loads(described["output"]) != {"n": 9}:
            raise AssertionError(f"the workflow ended {described['status']}")

    def nine_invokes() -> None:
        for _ in range(9):
            lam.invoke(FunctionName="bench-step", Payload=b"{}")

    execute()  # warm: the function's environment, the engine's modules
    speed = sb.clock.speed
    waits = sb.clock.real_seconds(3600)
    executions, invokes = [], []
    for _ in range(5):  # interleaved, so that both see the same machine load
        executions += timed(execute, 1)
        invokes += timed(nine_invokes, 1)
    wall, direct = statistics.median(executions), statistics.median(invokes)
    row(f"10-state workflow with a one-hour Wait, clock speed {speed:g}, median",
        f"{wall:.2f} s (the Wait {waits:.2f} s of it)",
        f"9 direct invokes {direct:.3f} s", "< 1 s", wall < 1)
    per_state = (wall - waits) / 9
    row("time per Lambda task state (engine, invoke, history), median",
        f"{per_state * 1000:.1f} ms = {per_state / (direct / 9):.2f}x",
        f"direct invoke {direct / 9 * 1000:.1f} ms", "(none set)", True)
    sb.clock.speed = 36000  # an hour in 0.1 s
    try:
        fast = statistics.median(timed(execute, 5))
    finally:
        sb.clock.speed = speed
    row("the same workflow, clock speed 36000, median", f"{fast:.2f} s",
        f"clock speed {speed:g}: {wall:.2f} s", "< 1 s", fast < 1)


FIRST_CALL = (
    "import boto3\n"
    "boto3.client('lambda', region_name='us-east-1').list_functions()\n"
    "print(json.dumps({'seconds': time.perf_counter() - started}))\n"
)
OURS = "import json, time, sandbox\nstarted = time.perf_counter()\nsb = sandbox.start()\n" + \
    FIRST_CALL + "sb.stop()\n"
BARE_MOTO = (
    "import json, os, time\n"
    "started = time.perf_counter()\n"
    "from moto.moto_server.threaded_moto_server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)\n"
    "server.start()\n"
    "host, port = server.get_host_and_port()\n"
    "os.environ.update(AWS_ENDPOINT_URL=f'http://{host}:{port}', AWS_ACCESS_KEY_ID='x',\n"
    "                  AWS_SECRET_ACCESS_KEY='x')\n"
) + FIRST_CALL + "server.stop()\n"


def _script(code: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def bench_start() -> None:
    ours = [_script(OURS) for _ in range(3)]
    bare = [_script(BARE_MOTO) for _ in range(3)]
    best, base = min(ours), min(bare)
    row("sandbox.start() to the first answered call", f"{best * 1000:.0f} ms = "
        f"{best / base:.2f}x", f"bare moto server {base * 1000:.0f} ms", "< 1 s", best < 1)


MEMORY_SCRIPT = textwrap.dedent("""
    import json, psutil, sandbox
    from sandbox.testing import deploy, invoke
    sb = sandbox.start()
    deploy("mem", "def handler(e, c):\\n    return 1\\n")
    invoke("mem"); invoke("mem")
    me = psutil.Process()
    children = me.children(recursive=True)
    def rss(process):
        try:
            return process.memory_info().rss
        except psutil.NoSuchProcess:  # a spare replaced meanwhile
            return 0
    total = rss(me) + sum(rss(c) for c in children)
    print(json.dumps({"total": total, "notebook": me.memory_info().rss,
                      "processes": len(children)}))
    sb.stop()
""")


IN_PROCESS_SCRIPT = textwrap.dedent("""
    import json, psutil
    from sandbox.testing import deploy, in_process_service, invoke
    with in_process_service():  # the sandbox inside the notebook's process, as before the split
        deploy("mem", "def handler(e, c):\\n    return 1\\n")
        invoke("mem"); invoke("mem")
        print(json.dumps({"notebook": psutil.Process().memory_info().rss}))
""")


def bench_memory() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = json.loads(subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], capture_output=True,
                                    text=True, env=env, check=True).stdout.splitlines()[-1])
    bare = subprocess.run([sys.executable, "-c", "import psutil, boto3, moto.server; "
                           "print(psutil.Process().memory_info().rss)"],
                          capture_output=True, text=True, check=True, env=env)
    mb = out["total"] / 2**20
    row("memory: notebook + sandbox server + warm environment (+ spare)",
        f"{mb:.0f} MB in {out['processes'] + 1} processes = "
        f"{out['total'] / int(bare.stdout):.2f}x",
        f"python with boto3 + moto imported {int(bare.stdout) / 2**20:.0f} MB", "< 300 MB",
        mb < 300)
    before = json.loads(subprocess.run([sys.executable, "-c", IN_PROCESS_SCRIPT],
                                       capture_output=True, text=True, env=env,
                                       check=True).stdout.splitlines()[-1])["notebook"]
    row("memory: the notebook process alone (it no longer holds moto)",
        f"{out['notebook'] / 2**20:.0f} MB = {out['notebook'] / before:.2f}x",
        f"the notebook holding the sandbox in process {before / 2**20:.0f} MB",
        "below the baseline", out["notebook"] < before)


def bench_grading(class_size: int = 100) -> None:
    """Grading one notebook (worker, sandbox server, jailed kernel, checks run by the worker)
    against executing the same notebook with nbconvert; the jail's cost; a class of 100."""
    import shutil
    from pathlib import Path

    from sandbox.grading import jail
    from sandbox.grading.grade import Options, grade, grade_one

    root = Path(__file__).resolve().parent.parent
    solution = root / "solutions" / "00-welcome.ipynb"
    jailed = Options(exercises=root / "exercises")
    bare = Options(exercises=root / "exercises", jail=False)
    ours, unjailed, theirs = [], [], []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(3):  # interleaved: each sees the same machine
            started = time.perf_counter()
            job = grade_one(solution, jailed, canonical=solution)
            ours.append(time.perf_counter() - started)
            assert all(r.status == "passed" for r in job.rows), job.rows
            started = time.perf_counter()
            grade_one(solution, bare, canonical=solution)
            unjailed.append(time.perf_counter() - started)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                            "--execute", str(solution), "--output-dir", out], check=True,
                           capture_output=True)
            theirs.append(time.perf_counter() - started)
    found = jail.probe()
    works = found.works and found.net
    median_row("grading one solution notebook" + ("" if works else " (NO JAIL OR NO NETWORK "
               "NAMESPACE: bwrap cannot here)"), ours, "nbconvert --execute", theirs, 1.5,
               unit="s")
    ratio = statistics.median(ours) / statistics.median(unjailed)
    row("the jail's cost (grading one notebook, jail / no jail: the worker's network and PID "
        "namespaces, the kernel's and the server's jails)", f"{ratio:.2f}x",
        f"no jail {statistics.median(unjailed):.2f} s", "reported", works)

    submission = root / "tests" / "submissions" / "perfect" / "00-welcome.ipynb"
    _grading_cpu(submission, jailed)

    def class_of(count: int, jobs: int) -> float:
        with tempfile.TemporaryDirectory() as work:
            for n in range(count):
                (Path(work) / "in" / f"student-{n:03d}").mkdir(parents=True)
                shutil.copy(submission, Path(work) / "in" / f"student-{n:03d}" / submission.name)
            started = time.perf_counter()
            rows = grade(Path(work) / "in", Path(work) / "out", jailed, jobs=jobs,
                         progress=lambda _: None)
            elapsed = time.perf_counter() - started
            assert all(r.status == "passed" for r in rows), "a perfect submission lost points"
        return elapsed

    # --jobs 1 half before and half after the class (a shared machine's load drifts: the
    # baseline brackets the figure)
    half = max(2, class_size // 10)
    one = class_of(half, jobs=1)
    two = class_of(class_size, jobs=2)
    one += class_of(half, jobs=1)
    speedup = (class_size / two) / (2 * half / one)
    row(f"{class_size} submissions with --jobs 2", f"{two:.0f} s, {speedup:.2f}x the "
        "throughput of --jobs 1", f"--jobs 1: {2 * half / one * 60:.0f} submissions/min",
        "< 180 s and >= 1.6x", two < 180 and speedup >= 1.6)


def _grading_cpu(submission, options, count: int = 3) -> None:
    """Where a submission's CPU goes, by process (each sampled every 20 ms until it ends),
    against its wall time: the cores one submission keeps busy, which bounds what --jobs 2 can
    add on 2 cores."""
    import collections
    import shutil
    from pathlib import Path

    import psutil

    from sandbox.grading.grade import grade

    seen: dict[int, tuple[float, str]] = {}
    done = threading.Event()

    def sample() -> None:
        me = psutil.Process()
        while not done.is_set():
            for process in me.children(recursive=True):
                try:
                    times, line = process.cpu_times(), " ".join(process.cmdline())
                except psutil.Error:
                    continue
                # a process that has ended and awaits its parent shows no command line
                seen[process.pid] = (times.user + times.system,
                                     seen.get(process.pid, (0.0, ""))[1] or line)
            done.wait(0.02)

    with tempfile.TemporaryDirectory() as work:
        for n in range(count):
            (Path(work) / "in" / f"student-{n}").mkdir(parents=True)
            shutil.copy(submission, Path(work) / "in" / f"student-{n}" / submission.name)
        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        started = time.perf_counter()
        grade(Path(work) / "in", Path(work) / "out", options, jobs=1, progress=lambda _: None)
        wall = (time.perf_counter() - started) / count
        done.set()
        watcher.join()
    kinds = collections.Counter()
    for cpu, line in seen.values():
        kind = next((name for name, marker in (
            ("server", "sandbox.server"), ("worker", "sandbox.grading.worker"),
            ("kernel", "ipykernel"), ("Lambda", "runtime/supervisor")) if marker in line
            and not line.startswith(("bwrap", "/usr/bin/bwrap"))), "other")
        kinds[kind] += cpu / count
    total = sum(kinds.values())
    split = ", ".join(f"{kind} {cpu:.2f}" for kind, cpu in kinds.most_common())
    row("a submission's CPU (by process, in s), against its wall time with --jobs 1",
        f"{total:.2f} s = {total / wall:.2f} cores ({split})", f"{wall:.2f} s each",
        "reported", True)


def bench_iam(sb) -> None:
    """The cost of deciding every request: an IAM user's PutItem with enforcement on, against
    the same call with it off, interleaved so that both see the same machine."""
    import json

    import boto3

    db = boto3.client("dynamodb")
    db.create_table(TableName="bench-iam", BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    iam = boto3.client("iam")
    iam.create_user(UserName="bench-writer")
    iam.put_user_policy(UserName="bench-writer", PolicyName="write", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem",
                                                "Resource": "*"}]}))
    key = iam.create_access_key(UserName="bench-writer")["AccessKey"]
    writer = boto3.client("dynamodb", aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])

    def put() -> None:
        writer.put_item(TableName="bench-iam", Item={"id": {"S": "1"}})

    timed(put, 50)
    on: list[float] = []
    off: list[float] = []
    for _ in range(10):
        on += timed(put, 40)
        sb.iam.enforcing = False
        off += timed(put, 40)
        sb.iam.enforcing = True
    median_row("a PutItem as an IAM user, IAM enforced, median", on, "not enforced", off, 1.25)


def _deploy_and_warm(lam, names: list[str]) -> None:
    from sandbox.testing import deploy

    for name in names:
        deploy(name, TRIVIAL)
        lam.invoke(FunctionName=name, Payload=b"{}")


def bench_idle_reap(sb, lam) -> None:
    """200 idle environments retired by the background reaper while a warm function is invoked:
    that invoke's latency against the same invoke with nothing to reap."""
    runtime = sb.admin
    runtime.configure_pool(memory_cap_mb=1e6)  # all 200 stay warm until the reaper's turn
    _deploy_and_warm(lam, ["bench-hot"] + [f"bench-idle-{i}" for i in range(200)])
    hot = lambda: lam.invoke(FunctionName="bench-hot", Payload=b"{}")  # noqa: E731
    quiet = timed(hot, 200)
    runtime.configure_pool(idle_seconds=0.5)  # the reaper takes them all on its next look
    during, started = [], time.perf_counter()
    while len(runtime.environments()) > 1 and time.perf_counter() - started < 60:
        during += timed(hot, 5)
    reaped = time.perf_counter() - started
    left = len(runtime.environments())
    ratio = statistics.median(during) / statistics.median(quiet)
    row("a warm invoke while 200 idle environments are reaped, median",
        f"{statistics.median(during) * 1000:.2f} ms = {ratio:.2f}x ({len(during)} invokes; "
        f"all gone {reaped:.1f} s after, the reaper looking every 5 s; {left - 1} left)",
        f"with nothing to reap {statistics.median(quiet) * 1000:.2f} ms", "<= 2x",
        ratio <= 2 and left <= 1)
    sb.reset()


def bench_reset(sb, lam) -> None:
    """sb.reset() with 100 warm environments, against a reset with none."""
    empty = timed(sb.reset, 3)
    sb.admin.configure_pool(memory_cap_mb=1e6)
    _deploy_and_warm(lam, [f"bench-reset-{i}" for i in range(100)])
    assert len(sb.admin.environments()) == 100
    started = time.perf_counter()
    sb.reset()
    took = time.perf_counter() - started
    row("reset() with 100 warm environments", f"{took * 1000:.0f} ms = "
        f"{took / statistics.median(empty):.1f}x", f"a reset with none "
        f"{statistics.median(empty) * 1000:.0f} ms", "< 1 s", took < 1)


def bench_soak(sb, lam) -> None:
    """10,000 warm invokes: memory growth (this process and every environment) per 1,000,
    against the growth of storing what those 1,000 invocations log (START, END, REPORT: 3,000
    CloudWatch Logs events), measured in the same run."""
    import boto3
    import psutil

    from sandbox.testing import deploy

    deploy("bench-soak", TRIVIAL)
    me = psutil.Process()

    def memory() -> int:
        processes = [me] + me.children(recursive=True)
        return sum(p.memory_info().rss for p in processes if p.is_running())

    samples = []
    started = time.perf_counter()
    for _thousand in range(10):
        for _ in range(1000):
            lam.invoke(FunctionName="bench-soak", Payload=b"{}")
        samples.append(memory())
    elapsed = time.perf_counter() - started
    growth = (samples[-1] - samples[0]) / 9  # the first 1,000 warm everything up
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="bench-soak-baseline")
    logs.create_log_stream(logGroupName="bench-soak-baseline", logStreamName="s")
    line = _soak_log_lines()
    before = memory()
    for _batch in range(9):
        stamp = int(time.time() * 1000)
        for chunk in range(0, 3000, 1000):
            logs.put_log_events(logGroupName="bench-soak-baseline", logStreamName="s",
                                logEvents=[{"timestamp": stamp, "message": line[i % 3]}
                                           for i in range(chunk, chunk + 1000)])
    baseline = (memory() - before) / 9
    ratio = growth / baseline if baseline > 0 else float("inf")
    row("soak: 10,000 warm invokes, memory growth per 1,000",
        f"{growth / 2**20:.2f} MB = {ratio:.2f}x ({samples[0] / 2**20:.0f} to "
        f"{samples[-1] / 2**20:.0f} MB; {10000 / elapsed:.0f} invokes/s)",
        f"storing their 3,000 log events {baseline / 2**20:.2f} MB", "<= 1.5x", ratio <= 1.5)
    sb.reset()


def _soak_log_lines() -> list[str]:
    rid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    return [f"START RequestId: {rid} Version: $LATEST\n", f"END RequestId: {rid}\n",
            f"REPORT RequestId: {rid}\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: "
            "128 MB\tMax Memory Used: 19 MB\t\n"]


SAM_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::Serverless::SimpleTable
  Jobs:
    Type: AWS::SQS::Queue
  Alerts:
    Type: AWS::SNS::Topic
  Intake:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: intake/, Handler: app.handler, Runtime: python3.12}
  Report:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: report/, Handler: app.handler, Runtime: python3.12}
"""


def _tree_peak(command: list[str], cwd: str, interval: float = 0.2) -> dict[str, float]:
    """Run ``command``; the peak, over its run, of the summed RSS and PSS of every process under
    it (the root, nbconvert, left out: what is summed is the kernel, the sandbox server and its
    execution environments, as in a student's JupyterLab); the CPU they used: on average over
    the run, and at most over one second (in cores)."""
    import psutil

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOX_"))}
    started = time.perf_counter()
    root = psutil.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE)
    peak = {"rss": 0.0, "pss": 0.0, "processes": 0.0, "cpu_peak": 0.0}
    seen: dict[int, float] = {}  # pid: CPU seconds when last seen
    used: list[float] = []  # CPU seconds used in each interval
    while root.poll() is None:
        rss = pss = cpu = 0.0
        try:
            children = root.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for child in children:
            try:
                info = child.memory_full_info()  # PSS: shared pages counted once in the sum
                times = child.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss, pss = rss + info.rss, pss + info.pss
            now = times.user + times.system
            cpu += now - seen.get(child.pid, 0.0)
            seen[child.pid] = now
        used.append(cpu)
        window = max(1, round(1 / interval))
        peak = {"rss": max(peak["rss"], rss), "pss": max(peak["pss"], pss),
                "processes": max(peak["processes"], len(children)),
                "cpu_peak": max(peak["cpu_peak"], sum(used[-window:]) / (window * interval))}
        time.sleep(interval)
    if root.wait() != 0:
        raise RuntimeError(f"{command} failed: {root.stderr.read().decode()[-2000:]}")
    wall = time.perf_counter() - started
    return {**peak, "cpu_mean": sum(used) / wall, "seconds": wall}


def bench_lesson_memory() -> dict[str, dict[str, float]]:
    """The peak memory of a student's processes while each lesson runs top to bottom (nbconvert
    --execute), against an empty notebook's kernel; the heaviest lesson's figure is the one
    docs/jupyterhub.md sizes a student's server by."""
    from pathlib import Path

    import nbformat

    root = Path(__file__).resolve().parent.parent
    peaks: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as out:
        empty = Path(out) / "empty.ipynb"
        nbformat.write(nbformat.v4.new_notebook(), empty)
        nbconvert = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                     "--execute", "--ExecutePreprocessor.timeout=600", "--output-dir", out]
        baseline = _tree_peak([*nbconvert, "--output", "empty-run", str(empty)], str(root))
        for lesson in sorted((root / "lessons").glob("*.ipynb")):
            peaks[lesson.stem] = _tree_peak([*nbconvert, str(lesson)], str(root / "lessons"))
            peak = peaks[lesson.stem]
            print(f"    {lesson.stem}: peak {peak['rss'] / 2**20:.0f} MB RSS, "
                  f"{peak['pss'] / 2**20:.0f} MB PSS, {peak['processes']:.0f} processes; CPU "
                  f"{peak['cpu_mean'] * peak['seconds']:.0f} s, {peak['cpu_mean']:.2f} cores "
                  f"on average over {peak['seconds']:.0f} s, "
                  f"{peak['cpu_peak']:.2f} at most over 1 s", flush=True)
    heaviest = max(peaks, key=lambda name: peaks[name]["rss"])
    rss, pss = peaks[heaviest]["rss"], peaks[heaviest]["pss"]
    row(f"peak memory of a student's processes, heaviest lesson ({heaviest})",
        f"{rss / 2**20:.0f} MB RSS ({pss / 2**20:.0f} MB PSS) in "
        f"{peaks[heaviest]['processes']:.0f} processes = {rss / baseline['rss']:.2f}x",
        f"an empty notebook's kernel {baseline['rss'] / 2**20:.0f} MB RSS",
        "< 2048 MB RSS (docs/jupyterhub.md's limit)", rss < 2**31)
    lab = _jupyterlab_rss()
    row("JupyterLab's own server, idle (not in the figure above)", f"{lab / 2**20:.0f} MB RSS "
        f"= {lab / baseline['rss']:.2f}x", f"an empty notebook's kernel "
        f"{baseline['rss'] / 2**20:.0f} MB RSS", "reported", True)
    return peaks


def _jupyterlab_rss() -> int:
    """The RSS of a JupyterLab server once it answers, no kernel running: what a student's
    server holds besides the kernel and the sandbox (it is not in nbconvert's figures)."""
    import socket
    import urllib.request

    import psutil

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOX_"))}
    with tempfile.TemporaryDirectory() as home:
        server = psutil.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser",
                               f"--port={port}", "--ServerApp.token=bench", "--allow-root",
                               f"--ServerApp.root_dir={home}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token=bench",
                                           timeout=5).read()
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                raise RuntimeError("JupyterLab did not answer")
            time.sleep(1)
            return sum(p.memory_info().rss for p in [server, *server.children(recursive=True)])
        finally:
            server.terminate()
            server.wait(30)


def bench_grading_throughput(count: int = 8) -> None:
    """Grading throughput per core: ``count`` solved submissions with --jobs = the cores, and
    on a Dask LocalCluster of as many one-thread workers; the CPU seconds one submission costs
    (what docs/jupyterhub.md's class arithmetic uses), against nbconvert --execute."""
    import resource
    import shutil
    from pathlib import Path

    from sandbox.grading.grade import Options, grade

    root = Path(__file__).resolve().parent.parent
    submission = root / "tests" / "submissions" / "perfect" / "00-welcome.ipynb"
    options = Options(exercises=root / "exercises")
    cores = os.cpu_count() or 1

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def class_of(scheduler: str | None = None) -> tuple[float, float]:
        with tempfile.TemporaryDirectory() as work:
            for n in range(count):
                (Path(work) / "in" / f"student-{n:03d}").mkdir(parents=True)
                shutil.copy(submission, Path(work) / "in" / f"student-{n:03d}" / submission.name)
            cpu, started = children_cpu(), time.perf_counter()
            rows = grade(Path(work) / "in", Path(work) / "out", options,
                         jobs=None if scheduler else cores, progress=lambda _: None,
                         scheduler=scheduler)
            elapsed = time.perf_counter() - started
            assert all(r.status == "passed" for r in rows), "a perfect submission lost points"
        return elapsed, children_cpu() - cpu

    local, cpu = class_of()
    per_core = count / local * 60 / cores
    with tempfile.TemporaryDirectory() as out:
        nbconvert = timed(lambda: subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
             str(root / "solutions" / "00-welcome.ipynb"), "--output-dir", out], check=True,
            capture_output=True), 3)
    executed = 60 / statistics.median(nbconvert)
    row(f"grading throughput per core ({count} submissions, --jobs {cores})",
        f"{per_core:.1f} submissions/min per core, {cpu / count:.1f} CPU s each = "
        f"{per_core / executed:.2f}x", f"nbconvert --execute on one core {executed:.1f}/min",
        "reported (docs/jupyterhub.md's arithmetic)", True)
    # one submission graded as course grade does (course check): its worker, server, kernel
    one = _tree_peak([sys.executable, "-m", "sandbox.cli", "check", str(submission)], str(root))
    with tempfile.TemporaryDirectory() as out:
        plain = _tree_peak([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                            "--execute", str(submission), "--output-dir", out], str(root))
    row("peak memory of one submission's grading (worker, sandbox server, jailed kernel)",
        f"{one['rss'] / 2**20:.0f} MB RSS ({one['pss'] / 2**20:.0f} MB PSS) in "
        f"{one['processes']:.0f} processes = {one['rss'] / plain['rss']:.2f}x",
        f"nbconvert --execute of it {plain['rss'] / 2**20:.0f} MB RSS",
        "reported (memory per concurrent grading)", True)
    try:
        from distributed import LocalCluster
    except ImportError:
        row("grading on a Dask LocalCluster", "not measured: the [dask] extra is not installed",
            "", "", False)
        return
    with LocalCluster(n_workers=cores, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        on_dask, _ = class_of(cluster.scheduler_address)
    row(f"the same {count} on a Dask LocalCluster of {cores} workers",
        f"{on_dask:.0f} s = {on_dask / local:.2f}x", f"--jobs {cores} {local:.0f} s",
        "<= 1.25x", on_dask / local <= 1.25)


def bench_push_sources(sb, lam) -> None:
    """S3 notifications are asynchronous: a PutObject whose notification targets a 2 s handler
    against the same PutObject to a bucket with no notification (interleaved); and an S3
    event's time from PutObject to the handler's start against an Event invoke's time from
    Invoke to the handler's start (the handler reports its start time through SQS)."""
    import boto3

    from sandbox.testing import deploy, execution_role

    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    starts = sqs.create_queue(QueueName="bench-starts")["QueueUrl"]
    role = execution_role("bench-push-role", "sqs:SendMessage")
    slow = deploy("bench-slow", "import time\ndef handler(event, context):\n"
                  "    time.sleep(2)\n", Role=role)
    start = deploy("bench-start", f"import boto3, time\nQ = {starts!r}\n"
                   "sqs = boto3.client('sqs')\n"
                   "def handler(event, context):\n"
                   "    started = time.time()\n"
                   "    sqs.send_message(QueueUrl=Q, MessageBody=repr(started))\n", Role=role)
    for name, arn in (("bench-notified", slow), ("bench-timed", start)):
        lam.add_permission(FunctionName=arn, StatementId=name, Action="lambda:InvokeFunction",
                           Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{name}")
        s3.create_bucket(Bucket=name)
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn,
                                              "Events": ["s3:ObjectCreated:*"]}]})
    s3.create_bucket(Bucket="bench-plain")
    put = lambda bucket: s3.put_object(Bucket=bucket, Key="k", Body=b"x")  # noqa: E731
    timed(lambda: put("bench-plain"), 10)
    # four environments of the slow handler warm first (Lambda's queue runs four at a time
    # here): the figure is the producer's call, not the cold starts its events cause
    for _ in range(4):
        lam.invoke(FunctionName="bench-slow", InvocationType="Event", Payload=b"{}")
    sb.settle(timeout=60)
    notified: list[float] = []
    plain: list[float] = []
    for _ in range(20):
        notified += timed(lambda: put("bench-notified"), 1)
        plain += timed(lambda: put("bench-plain"), 1)
    median_row("PutObject notifying a 2 s handler, median", notified, "no notification", plain,
               1.5)
    sb.settle(timeout=60)

    def started_after(cause) -> float:
        began = time.time()
        cause()
        while True:
            found = sqs.receive_message(QueueUrl=starts, WaitTimeSeconds=1).get("Messages", [])
            if found:
                sqs.delete_message(QueueUrl=starts, ReceiptHandle=found[0]["ReceiptHandle"])
                return float(found[0]["Body"]) - began

    invoke = lambda: lam.invoke(FunctionName="bench-start", InvocationType="Event",  # noqa: E731
                                Payload=b"{}")
    for _ in range(3):  # warm
        started_after(invoke)
    from_s3: list[float] = []
    from_invoke: list[float] = []
    for _ in range(20):
        from_s3.append(started_after(lambda: put("bench-timed")))
        from_invoke.append(started_after(invoke))
    median_row("S3 event to handler start, median", from_s3, "Event invoke to handler start",
               from_invoke, 2)
    sb.reset()


def bench_sqs_mapping(sb, messages: int = 10_000) -> None:
    """A 10,000-message SQS backlog drained by an event source mapping (batch size 10, trivial
    handler), against the same backlog received and deleted by a plain boto3 loop. Every
    message's delivery is a hop in the sandbox's record: none may be missing; a standard queue
    delivers at least once, so duplicates are counted (AWS allows them), not forbidden."""
    import boto3

    from sandbox.testing import deploy, execution_role

    sqs = boto3.client("sqs")

    def backlog(name: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        for start in range(0, messages, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": f"job {start + i}"} for i in range(10)])
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    url, _ = backlog("bench-loop")
    started, drained = time.perf_counter(), 0
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
        drained += len(got)
    loop_rate = drained / (time.perf_counter() - started)

    _, arn = backlog("bench-mapped")
    deploy("bench-esm", TRIVIAL, Role=execution_role(
        "bench-esm-role", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"))
    since = max([h["seq"] for h in sb.admin.deliveries(since=0)] or [0])
    started = time.perf_counter()
    boto3.client("lambda").create_event_source_mapping(EventSourceArn=arn,
                                                       FunctionName="bench-esm", BatchSize=10)
    settled = sb.settle(600)
    took = time.perf_counter() - started
    delivered = [h["event_id"] for h in sb.admin.deliveries(since=since)
                 if h["kind"] == "esm" and h["outcome"] == "delivered"]
    unique = len(set(delivered))
    rate = unique / took
    ratio = rate / loop_rate
    row("10,000-message SQS backlog drained by a mapping (batch 10, trivial handler)",
        f"{rate:.0f} messages/s = {ratio:.2f}x the loop ({took:.1f} s; {unique} of {messages} "
        f"delivered, {len(delivered) - unique} duplicates{'' if settled else ', NOT settled'})",
        f"a boto3 receive/delete loop {loop_rate:.0f} messages/s", ">= 200 messages/s, none "
        "lost", rate >= 200 and unique == messages and settled)
    sb.reset()


def _sam_app(folder: str) -> str:
    for name in ("intake", "report"):
        os.makedirs(os.path.join(folder, name))
        with open(os.path.join(folder, name, "app.py"), "w") as f:
            f.write(TRIVIAL)
    path = os.path.join(folder, "template.yaml")
    with open(path, "w") as f:
        f.write(SAM_TEMPLATE)
    return path


def _boto3_app(suffix: str, code: bytes) -> None:
    """The resources the SAM template stands for, made with boto3: a table, a queue, a topic,
    two roles with the basic execution policy and two functions."""
    import boto3

    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})
    iam, lam = boto3.client("iam"), boto3.client("lambda")
    boto3.client("dynamodb").create_table(
        TableName=f"orders-{suffix}", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    boto3.client("sqs").create_queue(QueueName=f"jobs-{suffix}")
    boto3.client("sns").create_topic(Name=f"alerts-{suffix}")
    for name in ("intake", "report"):
        role = iam.create_role(RoleName=f"{name}-{suffix}", AssumeRolePolicyDocument=trust)
        iam.attach_role_policy(RoleName=f"{name}-{suffix}", PolicyArn="arn:aws:iam::aws:policy/"
                               "service-role/AWSLambdaBasicExecutionRole")
        lam.create_function(FunctionName=f"{name}-{suffix}", Runtime="python3.12",
                            Handler="app.handler", Role=role["Role"]["Arn"],
                            Code={"ZipFile": code})


def bench_sam(sb) -> None:
    """sandbox.deploy of a five-resource SAM template (two functions packaged from folders, a
    table, a queue, a topic), against the same resources made with boto3; then a redeploy with
    one function's code changed, against boto3's UpdateFunctionCode of the same zip. The first
    deploy after start imports moto's CloudFormation and the SAM translator: printed apart."""
    import boto3

    import sandbox
    from sandbox.deployment import zip_folders

    folder = tempfile.mkdtemp(prefix="bench-sam-")
    template = _sam_app(folder)
    started = time.perf_counter()
    sandbox.deploy(template, stack_name="bench-warmup")
    print(f"  (first deploy after start: {time.perf_counter() - started:.2f} s, imports "
          "included)", flush=True)
    code = zip_folders((Path(folder) / "intake", ""))
    deploys, baseline, redeploys, updates = [], [], [], []
    for i in range(3):
        started = time.perf_counter()
        sandbox.deploy(template, stack_name=f"bench-sam-{i}")
        deploys.append(time.perf_counter() - started)
        started = time.perf_counter()
        _boto3_app(str(i), code)
        baseline.append(time.perf_counter() - started)
        with open(os.path.join(folder, "intake", "app.py"), "a") as f:
            f.write(f"# change {i}\n")
        started = time.perf_counter()
        changed = sandbox.deploy(template, stack_name=f"bench-sam-{i}")
        redeploys.append(time.perf_counter() - started)
        assert [c["LogicalResourceId"] for c in changed.changes] == ["Intake"], changed.changes
        started = time.perf_counter()
        boto3.client("lambda").update_function_code(
            FunctionName=f"intake-{i}",
            ZipFile=zip_folders((Path(folder) / "intake", "")))
        updates.append(time.perf_counter() - started)
    deploy, made = statistics.median(deploys), statistics.median(baseline)
    row("sandbox.deploy: a five-resource SAM template, packaging included, median",
        f"{deploy:.2f} s = {deploy / made:.1f}x", f"the same resources by boto3 {made:.2f} s",
        "< 2 s", deploy < 2)
    redeploy, update = statistics.median(redeploys), statistics.median(updates)
    row("sandbox.deploy again, one function's code changed, median",
        f"{redeploy:.2f} s = {redeploy / update:.1f}x",
        f"boto3 UpdateFunctionCode {update * 1000:.0f} ms", "< 1 s", redeploy < 1)
    sb.reset()


def bench_apigateway_sqs(sb) -> None:
    """A storage-first request: POST through a REST API's SQS integration (path override, a
    form template, the integration's role assumed and IAM deciding the SendMessage), against a
    boto3 send_message to the same queue, interleaved in the same run."""
    import json

    import boto3
    import requests

    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="bench-orders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"]
                                   )["Attributes"]["QueueArn"]
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="bench-apigw-sqs", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName="bench-apigw-sqs", PolicyName="send", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage",
                                                "Resource": arn}]}))
    apigw = boto3.client("apigateway")
    api = apigw.create_rest_api(name="bench-sqs")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api, resourceId=root, httpMethod="POST", type="AWS",
        integrationHttpMethod="POST", credentials=role,
        uri="arn:aws:apigateway:us-east-1:sqs:path/123456789012/bench-orders",
        requestParameters={"integration.request.header.Content-Type":
                           "'application/x-www-form-urlencoded'"},
        requestTemplates={"application/json": "Action=SendMessage&MessageBody=$input.body"})
    apigw.put_method_response(restApiId=api, resourceId=root, httpMethod="POST",
                              statusCode="200")
    apigw.put_integration_response(restApiId=api, resourceId=root, httpMethod="POST",
                                   statusCode="200")
    apigw.create_deployment(restApiId=api, stageName="prod")
    url = sb.api_url(api, "prod") + "/"
    http = requests.Session()

    def through_api() -> None:
        response = http.post(url, json={"order": 1})
        if response.status_code != 200 or "SendMessageResponse" not in response.text:
            raise AssertionError(f"API Gateway answered {response.status_code} {response.text}")

    def direct() -> None:
        sqs.send_message(QueueUrl=queue, MessageBody='{"order": 1}')

    for _ in range(20):
        through_api()
        direct()
    api_times, direct_times = [], []
    for _ in range(200):  # interleaved, so that both see the same machine load
        api_times += timed(through_api, 1)
        direct_times += timed(direct, 1)
    sqs.purge_queue(QueueUrl=queue)
    median_row("POST through a REST API's SQS integration, median", api_times,
               "boto3 send_message", direct_times, 3)


def bench_eventbridge(sb, count: int = 1000) -> None:
    """An EventBridge rule with three targets (a Lambda function, an SQS queue, an SNS topic
    with an SQS subscriber) for 1,000 events: every event reaches all three, none lost; the time
    from the first PutEvents to settled, against the same 1,000 events to one SQS target."""
    import boto3

    from sandbox.testing import deploy, execution_role

    events, sqs, sns = boto3.client("events"), boto3.client("sqs"), boto3.client("sns")
    region, account = "us-east-1", "123456789012"

    def queue(name: str, service: str, source: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = f"arn:aws:sqs:{region}:{account}:{name}"
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": service},
                "Action": "sqs:SendMessage", "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": source}}}]})})
        return url, arn

    def rule(name: str, source: str, targets: list[dict]) -> str:
        arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": [source]}))
        events.put_targets(Rule=name, Targets=targets)
        return str(arn["RuleArn"])

    def ids(url: str) -> set[str]:
        found: set[str] = set()
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return found
            found |= {json.loads(m["Body"])["id"] for m in got}
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])

    def put(source: str) -> float:
        started = time.perf_counter()
        for _ in range(count // 10):
            events.put_events(Entries=[{"Source": source, "DetailType": "bench",
                                        "Detail": "{}"}] * 10)
        sb.settle(timeout=300)
        return time.perf_counter() - started

    rule_arn = f"arn:aws:events:{region}:{account}:rule/"
    one_url, one_arn = queue("bench-one", "events.amazonaws.com", rule_arn + "bench-one")
    rule("bench-one", "one", [{"Id": "q", "Arn": one_arn}])
    baseline = put("one")
    baseline_ok = len(ids(one_url)) == count

    fn = deploy("bench-eb", "def handler(event, context):\n    print('EVENT', event['id'])\n",
                Role=execution_role("bench-eb-role"))
    topic = sns.create_topic(Name="bench-eb")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": topic}]}))
    sub_url, sub_arn = queue("bench-sub", "sns.amazonaws.com", topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sub_arn,
                  Attributes={"RawMessageDelivery": "true"})
    q_url, q_arn = queue("bench-three", "events.amazonaws.com", rule_arn + "bench-three")
    three = rule("bench-three", "three", [{"Id": "f", "Arn": fn}, {"Id": "q", "Arn": q_arn},
                                          {"Id": "t", "Arn": topic}])
    boto3.client("lambda").add_permission(
        FunctionName="bench-eb", StatementId="eb", Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com", SourceArn=three)
    took = put("three")
    by_queue, by_topic = ids(q_url), ids(sub_url)
    logs = boto3.client("logs")
    by_function: set[str] = set()
    for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName="/aws/lambda/bench-eb", filterPattern="EVENT"):
        by_function |= {e["message"].split()[-1] for e in page["events"]
                        if e["message"].startswith("EVENT")}
    complete = len(by_queue) == len(by_topic) == len(by_function) == count and \
        by_queue == by_topic == by_function
    row("1,000 events to a rule with three targets (Lambda, SQS, SNS->SQS), to settled",
        f"{took:.2f} s = {took / baseline:.2f}x; delivered {len(by_function)} / "
        f"{len(by_queue)} / {len(by_topic)}",
        f"one SQS target {baseline:.2f} s ({'all' if baseline_ok else 'NOT all'} 1,000)",
        "all 1,000 to each target, none lost", complete and baseline_ok)
    sb.reset()


def bench_alarms(sb, lam, alarms: int = 50) -> None:
    """What evaluating CloudWatch alarms costs a notebook: an invoke and the settle after it,
    with ``alarms`` alarms watching the function's metrics (each evaluated on every change),
    against the same without alarms, interleaved so that both see the same machine."""
    import boto3

    from sandbox.testing import deploy

    deploy("bench-alarms", TRIVIAL)
    cloudwatch = boto3.client("cloudwatch")
    names = [f"bench-alarm-{n}" for n in range(alarms)]

    def watch() -> None:
        for n, name in enumerate(names):
            cloudwatch.put_metric_alarm(
                AlarmName=name, Namespace="AWS/Lambda",
                MetricName=["Errors", "Invocations", "Duration"][n % 3],
                Dimensions=[{"Name": "FunctionName", "Value": "bench-alarms"}],
                Statistic="Sum", Period=60, EvaluationPeriods=3, Threshold=1e9,
                ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")

    def invoke_and_settle() -> None:
        lam.invoke(FunctionName="bench-alarms", Payload=b"{}")
        sb.settle()

    timed(invoke_and_settle, 20)
    watched: list[float] = []
    unwatched: list[float] = []
    for _ in range(5):
        watch()
        sb.settle()
        watched += timed(invoke_and_settle, 20)
        cloudwatch.delete_alarms(AlarmNames=names)
        unwatched += timed(invoke_and_settle, 20)
    median_row(f"an invoke and its settle, {alarms} alarms on the function's metrics, median",
               watched, "no alarms", unwatched, 1.5)


def bench_aurora(sb) -> None:
    """The first Aurora PostgreSQL cluster: from CreateDBCluster to the first Data API answer
    (its PostgreSQL server initialised and started, its master user made), against a Lambda
    function's create and first invoke in the same sandbox; then a second cluster (the
    server's template is made once per sandbox)."""
    import boto3

    from sandbox.testing import deploy

    rds, data = boto3.client("rds"), boto3.client("rds-data")

    def cluster(name: str) -> float:
        started = time.perf_counter()
        created = rds.create_db_cluster(
            DBClusterIdentifier=name, Engine="aurora-postgresql", MasterUsername="bench",
            ManageMasterUserPassword=True, EnableHttpEndpoint=True,
            ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 2})["DBCluster"]
        rds.create_db_instance(DBInstanceIdentifier=f"{name}-1", DBInstanceClass="db.serverless",
                               Engine="aurora-postgresql", DBClusterIdentifier=name)
        rds.get_waiter("db_cluster_available").wait(
            DBClusterIdentifier=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 2400})
        answer = data.execute_statement(resourceArn=created["DBClusterArn"],
                                        secretArn=created["MasterUserSecret"]["SecretArn"],
                                        sql="SELECT 40 + 2")
        assert answer["records"] == [[{"longValue": 42}]], answer
        return time.perf_counter() - started

    sb.reset()
    started = time.perf_counter()
    deploy("bench-aurora-baseline", "def handler(event, context):\n    return 1\n")
    boto3.client("lambda").invoke(FunctionName="bench-aurora-baseline", Payload=b"{}")
    baseline = time.perf_counter() - started
    first = cluster("bench-first")
    second = cluster("bench-second")
    row("first Aurora cluster: CreateDBCluster to the first Data API answer",
        f"{first:.2f} s = {first / baseline:.1f}x; a second cluster {second:.2f} s",
        f"Lambda create + first invoke {baseline:.2f} s", "<= 20x", first / baseline <= 20)
    # a statement through the Data API (it logs in for each call, as the secret's user)
    cluster_arn = rds.describe_db_clusters(DBClusterIdentifier="bench-first")["DBClusters"][0]
    arns = {"resourceArn": cluster_arn["DBClusterArn"],
            "secretArn": cluster_arn["MasterUserSecret"]["SecretArn"]}
    statements: list[float] = []
    describes: list[float] = []
    for _ in range(50):  # interleaved, so that both see the same machine load
        statements += timed(lambda: data.execute_statement(sql="SELECT 1", **arns), 1)
        describes += timed(lambda: rds.describe_db_clusters(DBClusterIdentifier="bench-first"),
                           1)
    median_row("Data API ExecuteStatement (SELECT 1), median", statements,
               "DescribeDBClusters", describes, 6)
    sb.reset()


def bench_rds_proxy(sb, invocations: int = 50) -> None:
    """RDS Proxy: 50 concurrent Lambda invocations (pg8000 packaged with the function), each
    holding a connection for 1 s, against an Aurora PostgreSQL cluster with max_connections 20:
    through the proxy none fails (baseline: the same 50 straight to the cluster, where some get
    SQLSTATE 53300); and one query's latency through the proxy against the same query on a
    direct connection (low concurrency: one client)."""
    import boto3
    import pg8000.native
    from botocore.config import Config

    from sandbox.rds.packaging import driver_files
    from sandbox.testing import deploy, role

    rds, secrets = boto3.client("rds"), boto3.client("secretsmanager")
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="bench-few", DBParameterGroupFamily="aurora-postgresql16",
        Description="few connections")
    rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName="bench-few", Parameters=[
        {"ParameterName": "max_connections", "ParameterValue": "20",
         "ApplyMethod": "pending-reboot"}])
    rds.create_db_cluster(
        DBClusterIdentifier="bench-db", Engine="aurora-postgresql", EngineVersion="16.4",
        MasterUsername="bench_admin", ManageMasterUserPassword=True,
        DBClusterParameterGroupName="bench-few",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 2})
    rds.create_db_instance(DBInstanceIdentifier="bench-db-1", DBInstanceClass="db.serverless",
                           Engine="aurora-postgresql", DBClusterIdentifier="bench-db")
    rds.get_waiter("db_cluster_available").wait(
        DBClusterIdentifier="bench-db", WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
    cluster = rds.describe_db_clusters(DBClusterIdentifier="bench-db")["DBClusters"][0]
    secret_arn = cluster["MasterUserSecret"]["SecretArn"]
    secret = json.loads(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])
    proxy_role = role("bench-proxy-role", {"Effect": "Allow",
                                           "Action": "secretsmanager:GetSecretValue",
                                           "Resource": secret_arn}, service="rds.amazonaws.com")
    subnets = [s["SubnetId"] for s in boto3.client("ec2").describe_subnets()["Subnets"][:2]]
    endpoint = rds.create_db_proxy(
        DBProxyName="bench-proxy", EngineFamily="POSTGRESQL", RoleArn=proxy_role,
        VpcSubnetIds=subnets, Auth=[{"AuthScheme": "SECRETS", "SecretArn": secret_arn}],
    )["DBProxy"]["Endpoint"]
    rds.register_db_proxy_targets(DBProxyName="bench-proxy", DBClusterIdentifiers=["bench-db"])

    def latency(host: str, port: int) -> list[float]:
        connection = pg8000.native.Connection(secret["username"], password=secret["password"],
                                              host=host, port=port, database="postgres")
        try:
            connection.run("SELECT 1")
            return timed(lambda: connection.run("SELECT 1"), 300)
        finally:
            connection.close()

    direct_times = latency(cluster["Endpoint"], cluster["Port"])
    proxy_times = latency(endpoint, 5432)
    median_row("RDS Proxy: one query on an open connection, through the proxy", proxy_times,
               "direct to the cluster", direct_times, 3)

    handler = textwrap.dedent("""
        import pg8000.native

        def handler(event, context):
            if event.get("warm"):
                return {"ok": True}
            try:
                connection = pg8000.native.Connection(
                    event["user"], password=event["password"], host=event["host"],
                    port=event["port"], database="postgres", timeout=120)
            except pg8000.exceptions.DatabaseError as error:
                return {"ok": False, "code": error.args[0].get("C")}
            try:
                connection.run("SELECT pg_sleep(1)")
                return {"ok": True}
            finally:
                connection.close()
    """)
    arn = deploy("bench-proxy-fn", {"app.py": handler, **driver_files("pg8000")}, Timeout=300,
                 MemorySize=256)
    lam = boto3.client("lambda", config=Config(max_pool_connections=invocations))

    def fifty(event: dict) -> tuple[list[dict], float]:
        results: list[dict] = [{} for _ in range(invocations)]

        def invoke(index: int) -> None:
            answer = lam.invoke(FunctionName=arn, Payload=json.dumps(event).encode())
            results[index] = json.loads(answer["Payload"].read())

        threads = [threading.Thread(target=invoke, args=(i,)) for i in range(invocations)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results, time.perf_counter() - started

    fifty({"warm": True})
    credentials = {"user": secret["username"], "password": secret["password"]}
    direct, direct_took = fifty({**credentials, "host": cluster["Endpoint"],
                                 "port": cluster["Port"]})
    proxied, proxied_took = fifty({**credentials, "host": endpoint, "port": 5432})
    direct_failed = sum(1 for r in direct if not r.get("ok"))
    proxied_failed = sum(1 for r in proxied if not r.get("ok"))
    row(f"RDS Proxy: {invocations} concurrent Lambda invocations, max_connections 20",
        f"{proxied_failed} failed, {proxied_took:.1f} s = {proxied_took / direct_took:.2f}x",
        f"direct: {direct_failed} failed (53300), {direct_took:.1f} s",
        "none failed through the proxy", proxied_failed == 0)
    sb.reset()


def bench_appsync(sb, repeat: int = 300) -> None:
    """A GraphQL query through an AppSync DynamoDB resolver (VTL GetItem; then the same through
    an APPSYNC_JS resolver), over HTTP with an API key, against the equivalent GetItem through
    boto3: each a median of ``repeat`` calls."""
    import boto3
    import requests

    from sandbox.testing import role

    dynamodb, appsync = boto3.client("dynamodb"), boto3.client("appsync")
    dynamodb.create_table(TableName="bench-notes", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    dynamodb.put_item(TableName="bench-notes", Item={"id": {"S": "n1"}, "title": {"S": "hi"}})
    api = appsync.create_graphql_api(name="bench", authenticationType="API_KEY")["graphqlApi"]
    api_id = api["apiId"]
    key = appsync.create_api_key(apiId=api_id)["apiKey"]["id"]
    appsync.start_schema_creation(apiId=api_id, definition=(
        b"type Note { id: ID! title: String }\n"
        b"type Query { vtl(id: ID!): Note js(id: ID!): Note }"))
    service_role = role("bench-appsync", {"Effect": "Allow", "Action": "dynamodb:GetItem",
                                          "Resource": "*"}, service="appsync.amazonaws.com")
    appsync.create_data_source(apiId=api_id, name="notes", type="AMAZON_DYNAMODB",
                               serviceRoleArn=service_role,
                               dynamodbConfig={"tableName": "bench-notes",
                                               "awsRegion": "us-east-1"})
    appsync.create_resolver(
        apiId=api_id, typeName="Query", fieldName="vtl", dataSourceName="notes",
        requestMappingTemplate='{"version": "2018-05-29", "operation": "GetItem", '
                               '"key": {"id": $util.dynamodb.toDynamoDBJson($ctx.args.id)}}',
        responseMappingTemplate="$util.toJson($ctx.result)")
    appsync.create_resolver(
        apiId=api_id, typeName="Query", fieldName="js", dataSourceName="notes",
        runtime={"name": "APPSYNC_JS", "runtimeVersion": "1.0.0"},
        code="import * as ddb from '@aws-appsync/utils/dynamodb';\n"
             "export function request(ctx) { return ddb.get({ key: { id: ctx.args.id } }); }\n"
             "export function response(ctx) { return ctx.result; }\n")
    session = requests.Session()
    url = sb.appsync_url(api_id)

    def query(field: str) -> None:
        answer = session.post(url, json={"query": f'{{ {field}(id: "n1") {{ title }} }}'},
                              headers={"x-api-key": key}, timeout=30).json()
        assert answer == {"data": {field: {"title": "hi"}}}, answer

    def get_item() -> None:
        dynamodb.get_item(TableName="bench-notes", Key={"id": {"S": "n1"}})

    for _ in range(20):  # warm both paths (the schema is built on first use)
        query("vtl")
        query("js")
        get_item()
    baseline = timed(get_item, repeat)
    median_row("AppSync GraphQL query, VTL DynamoDB resolver", timed(lambda: query("vtl"), repeat),
               "boto3 GetItem", baseline, 2.0)
    median_row("AppSync GraphQL query, APPSYNC_JS DynamoDB resolver",
               timed(lambda: query("js"), repeat), "boto3 GetItem", baseline, 2.0)
    sb.reset()


def main() -> int:
    import boto3

    import sandbox

    print(f"Serverless Sandbox benchmarks, {os.cpu_count()} cores, Python "
          f"{sys.version.split()[0]}", flush=True)
    bench_start()
    bench_memory()
    bench_grading()
    bench_lesson_memory()
    bench_grading_throughput()
    sb = sandbox.start()
    try:
        lam = boto3.client("lambda")
        bench_warm(lam)
        bench_cold(lam)
        bench_throughput(lambda: boto3.session.Session().client("lambda"))
        bench_api_gateway(lam)
        bench_step_functions(lam)
        bench_iam(sb)
        bench_reset(sb, lam)
        bench_idle_reap(sb, lam)
        bench_soak(sb, lam)
        bench_push_sources(sb, lam)
        bench_sam(sb)
        bench_sqs_mapping(sb)
        bench_apigateway_sqs(sb)
        bench_eventbridge(sb)
        bench_alarms(sb, lam)
        bench_aurora(sb)
        bench_rds_proxy(sb)
        bench_appsync(sb)
    finally:
        sb.stop()
    width = max(len(r[0]) for r in ROWS)
    print("\n" + "figure".ljust(width), "| measured | baseline | target | met")
    for figure, measured, baseline, target, met in ROWS:
        print(figure.ljust(width), "|", measured, "|", baseline, "|", target, "|",
              "yes" if met else "NO")
    return 0 if all(r[4] for r in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())
