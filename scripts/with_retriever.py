"""Run a command while the in-context example retriever serves: start icl_retriever_app.py with
the given config arguments, wait until /health answers, run the command, then stop the service
(also when the command fails or on Ctrl-C). If a service already answers at the configured
address, it is used and left running.

    python scripts/with_retriever.py [--config F] [--set k=v ...] -- \
        python cache_results_advanced_icl.py [--config F] [--set k=v ...]
"""

import argparse
import signal
import subprocess
import sys
import time

import requests

from elmtex import ROOT
from elmtex.config import add_config_args, config_from_args
from elmtex.icl import retriever_url

if "--" not in sys.argv:
    sys.exit(__doc__)
split = sys.argv.index("--")
own, command = sys.argv[1:split], sys.argv[split + 1 :]
parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument(
    "--timeout",
    type=float,
    default=900,
    help="seconds to wait for the service to answer (it embeds the training "
    "split on its first start)",
)
args = parser.parse_args(own)
cfg = config_from_args(args, show=False)
url = retriever_url(cfg)
if not command:
    sys.exit("with_retriever.py: no command after --")


def healthy() -> bool:
    try:
        return requests.get(url + "/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


service = None
if healthy():
    print(f"with_retriever: a retriever already answers at {url}; using it", flush=True)
else:
    service_args = [a for a in own if not a.startswith("--timeout")]
    if "--timeout" in own:  # drop its value too
        i = own.index("--timeout")
        service_args = own[:i] + own[i + 2 :]
    service = subprocess.Popen(
        [sys.executable, str(ROOT / "icl_retriever_app.py"), *service_args], cwd=ROOT
    )
    deadline = time.monotonic() + args.timeout
    while not healthy():
        if service.poll() is not None:
            sys.exit(
                f"with_retriever: icl_retriever_app.py exited with {service.returncode} "
                "before serving (its messages are above)"
            )
        if time.monotonic() > deadline:
            service.terminate()
            sys.exit(f"with_retriever: no answer from {url}/health within {args.timeout:.0f} s")
        time.sleep(0.5)

try:
    code = subprocess.call(command)
except KeyboardInterrupt:
    code = 130
finally:
    if service is not None and service.poll() is None:
        service.send_signal(signal.SIGTERM)  # the service shuts down cleanly on it
        try:
            service.wait(30)
        except subprocess.TimeoutExpired:
            service.kill()
sys.exit(code)
