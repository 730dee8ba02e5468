"""Starting the CLI (and so `ordermill serve`) loads every plugin but not the heavy libraries
only some actions use: fpdf and Pillow (PDFs), segno (QR codes), the Stripe, PayPal and
minFraud SDKs (with aiohttp) and requests. Together they were a third of every `ordermill`
command's start-up (1.51 s of CPU before, 0.95 s after, on the session-8 VM)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # starts Python processes

HEAVY = ("fpdf", "PIL", "segno", "minfraud", "aiohttp", "stripe", "paypalserversdk", "requests")
PROBE = f"""
import json, sys, tempfile
from pathlib import Path
from ordermill.cli import main
from ordermill.core.app import Ordermill
from ordermill.core.settings import Settings
try:
    main(["--help"])
except SystemExit:
    pass
folder = Path(tempfile.mkdtemp())
mill = Ordermill(Settings.from_env(env={{}}, database_url=f"sqlite:///{{folder / 'shop.sqlite'}}",
                                   instance_path=folder))
assert {{"stripe", "paypal"}} <= set(mill.gateways)  # what `ordermill serve` builds too
print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))
"""


def test_the_cli_and_a_mill_start_without_the_libraries_of_pdfs_qr_codes_and_sdks() -> None:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ORDERMILL_LOAD", "ORDERMILL_BLOCK"))}
    ran = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         env=env, timeout=120, check=False)
    assert ran.returncode == 0, ran.stderr
    assert "Usage:" in ran.stdout  # the plugins' commands were listed, so they were loaded
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == []
