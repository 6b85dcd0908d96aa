"""Every CLI command given bad input (malformed addresses, hashes and ids, missing files, an
unknown network, an unreachable RPC, a wrong keystore password): exit code non-zero, one clear
line on stderr, no traceback, and nothing written (data dir, deployments dir, store, work folder).

The command list comes from the Typer app itself, so a new command without a bad-input case here
fails test_every_command_has_a_bad_input_case."""

from __future__ import annotations

import json
import os

import pytest
import typer
from eth_account import Account

from cityledger.cli import app
from cityledger.indexer.store import migrate

MISSING = "/nonexistent/cityledger/file.csv"
BAD_ADDR = "0xZZ12"
DEAD_RPC = {"CITYLEDGER_RPC_URL": "http://127.0.0.1:9"}

# (command words..., args) -> extra environment
CASES: list[tuple[list[str], dict]] = [
    (["up", "--network", "nosuch"], {}),
    (["deploy", "--network", "nosuch"], {}),
    (["deploy"], DEAD_RPC),
    (["deploy", "--network", "devnet"], {"CITYLEDGER_CHAIN_ID": "1"}),  # the RPC is another chain
    (["accounts", "--network", "nosuch"], {}),
    (["run", "/nonexistent/script.py"], {}),
    (["console", "--network", "nosuch"], {}),
    (["fingerprint", MISSING], {}),
    (["publish", MISSING, "--title", "t", "--domain", "health"], {}),
    (["publish", "{csv}", "--title", "t", "--domain", "nosuchdomain"], {}),
    (["publish", "{csv}", "--title", "t", "--domain", "health", "--from-account", BAD_ADDR], {}),
    (["publish", "{csv}", "--title", "t", "--domain", "health"], DEAD_RPC),
    (["withdraw", "notanid", "--reason", "x"], {}),
    (["withdraw", "1", "--reason", "x", "--from-account", BAD_ADDR], {}),
    (["withdraw", "1", "--reason", "x"], DEAD_RPC),
    (["attest", "1", "--kind", "nosuchkind", "--report", "{csv}"], {}),
    (["attest", "1", "--kind", "quality", "--report", MISSING], {}),
    (["verify", MISSING], {}),
    (["verify", "{csv}", "--network", "nosuch"], {}),
    (["prove", MISSING, "--row", "1"], {}),
    (["prove", "{csv}", "--row", "999999"], {}),
    (["verify-row", "/nonexistent/proof.json"], {}),
    (["verify-row", "{csv}"], {}),  # not a proof file
    (["index", "--once", "--network", "nosuch"], {}),
    (["index", "--once", "--db", "nosuchscheme://x"], {}),
    (["index", "--once"], DEAD_RPC),
    (["index-status", "--db", "sqlite:///{tmp}/never/created.db"], {}),
    (["datasets", "--publisher", BAD_ADDR], {}),
    (["datasets", "--page-size", "100000"], {}),
    (["dataset", "0x1234"], {}),
    (["consents", BAD_ADDR], {}),
    (
        [
            "consent-check",
            "--citizen",
            BAD_ADDR,
            "--purpose",
            "ScientificResearch",
            "--scope-kind",
            "3",
            "--scope-id",
            "1",
        ],
        {},
    ),
    (["consent-check", "--citizen", "0x" + "11" * 20, "--purpose", "0x12", "--scope-kind", "9", "--scope-id", "1"], {}),
    (["access", "--grantee", BAD_ADDR], {}),
    (["access", "cancel", "0"], {}),
    (["access", "cancel", "1"], DEAD_RPC),
    (["releases", "--grantee", BAD_ADDR], {}),
    (["rights", "--publisher", BAD_ADDR], {}),
    (["rights", "answer", "1", "--outcome", "maybe", "--file", "{csv}"], {}),
    (["rights", "answer", "1", "--outcome", "refused", "--file", MISSING], {}),
    (["rights", "stats", "--publisher", BAD_ADDR], {}),
    (["release-operator", "add", BAD_ADDR], {}),
    (["release-operator", "remove", "0x" + "00" * 20], DEAD_RPC),
    (["release-operator", "list", BAD_ADDR], {}),
    (["budget", "1", "--epsilon", "lots"], {}),
    (["budget", "1", "--epsilon", "1.0000001"], {}),
    (["obligations", "--recipient", BAD_ADDR], {}),
    (["obligations", "request", "1", BAD_ADDR], {}),
    (["obligations", "confirm", "1", "--evidence", MISSING], {}),
    (["download", "../etc/passwd"], {}),  # not a dataset id nor a hash: no request made
    (["download", "1", "--api", "http://127.0.0.1:9"], {}),  # no data room there: nothing written
    (["deliveries", "--recipient", BAD_ADDR], {}),
    (["dataroom", "serve-obligations", "--once"], DEAD_RPC),
    (["org", "set-profile", "0x" + "11" * 20, "--name", "X", "--kind", "citizen"], {}),
    (["org", "set-profile", "0x" + "11" * 20, "--name", "X", "--kind", "agency", "--website", "javascript:x"], {}),
    (["org", "show", BAD_ADDR], {}),
    (["org", "list", "--page-size", "1000"], {}),
    (["release", "1", "{csv}", "--purpose", "ScientificResearch", "--operator", BAD_ADDR], {}),
    (["publish", "{csv}", "--title", "t", "--domain", "health", "--privacy", MISSING], {}),
    (["publish", "{csv}", "--title", "t", "--domain", "health", "--privacy", "{csv}"], {}),  # not JSON
    (["used-my-data", BAD_ADDR], {}),
    (["status", "--network", "nosuch"], {}),
    (["release", "1", MISSING, "--purpose", "ScientificResearch"], {}),
    (["release", "1", "{csv}", "--purpose", "NoSuchPurpose"], {}),
    (["serve", "--network", "nosuch"], {}),
    (["devnet", "start", "--network", "nosuch"], {}),
    (["devnet", "status", "--network", "nosuch"], {}),
    (["harvest", MISSING], {}),
    (["harvest", "{csv}"], {}),  # not a DCAT catalogue
    (["harvest", "http://127.0.0.1:9/catalog.ttl"], {}),
    (["harvest", "{csv}", "--domain", "nosuchdomain"], {}),
    (["harvest", "{csv}", "--license", "my own terms"], {}),
    (["quality", MISSING], {}),
    (["quality", "{csv}"], {}),  # no dcat:Dataset in it
    (["quality", "0"], {}),
    (["quality", "99"], {}),  # not registered
    (["quality", "1", "--base", "ftp://x"], {}),
    (["receipt", "get", "0x1234"], {}),
    (["receipt", "get", "0x" + "ab" * 32], {}),  # no such consent in the index
    (["receipt", "verify", MISSING], {}),
    (["receipt", "verify", "{csv}"], {}),  # not a JSON receipt
]
# Commands without a bad input to give: no arguments, or nothing to get wrong.
NO_BAD_INPUT = {"compile", "networks", "gas", "devnet stop"}


def leaf_commands() -> set[str]:
    out = set()

    def walk(c, prefix):
        if hasattr(c, "commands"):
            for name, sub in c.commands.items():
                walk(sub, [*prefix, name])
        else:
            out.add(" ".join(prefix))

    walk(typer.main.get_command(app), [])
    return out


def test_every_command_has_a_bad_input_case():
    covered = set()
    leaves = leaf_commands()
    for argv, _ in CASES:
        for n in (2, 1):
            if " ".join(argv[:n]) in leaves:
                covered.add(" ".join(argv[:n]))
                break
    assert leaves - covered - NO_BAD_INPUT == set()


def snapshot(*folders) -> dict:
    out = {}
    for folder in folders:
        for dirpath, _dirs, files in os.walk(folder):
            out[dirpath] = "dir"
            for f in files:
                st = os.stat(os.path.join(dirpath, f))
                out[os.path.join(dirpath, f)] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture
def world(devnet, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    csv = work / "rows.csv"
    csv.write_text("id,value\n1,a\n2,b\n")
    store = tmp_path / "store" / "index.db"
    migrate(f"sqlite:///{store}")
    monkeypatch.setenv("CITYLEDGER_DB_URL", f"sqlite:///{store}")
    monkeypatch.chdir(work)
    return {
        "csv": str(csv),
        "tmp": str(tmp_path),
        "folders": (devnet.cfg.data_dir, devnet.cfg.deployments_dir, store.parent, work, tmp_path),
    }


XFAIL: dict[str, str] = {}


def _params():
    for argv, env in CASES:
        name = " ".join(argv)
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[name])] if name in XFAIL else []
        yield pytest.param(argv, env, id=name[:60], marks=marks)


@pytest.mark.parametrize("argv,env", list(_params()))
def test_bad_input_is_one_clear_line(cli, world, monkeypatch, argv, env):
    args = [a.format(csv=world["csv"], tmp=world["tmp"]) for a in argv]
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    before = snapshot(*world["folders"])
    code, out, err = cli(*args)
    after = snapshot(*world["folders"])
    assert code != 0, f"exit 0 for {args}: {out[-300:]}"
    assert "Traceback" not in out + err, err[-1000:]
    assert err.strip(), f"no message on stderr (stdout: {out[-300:]})"
    assert "error" in err.lower() or "usage" in err.lower() or "invalid" in err.lower(), err
    assert len(err) < 600, f"not one short message: {err}"
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    assert not changed, f"{args} wrote {sorted(changed)}"


def test_wrong_keystore_password(cli, devnet, tmp_path, monkeypatch):
    """A non-devnet network with an encrypted keystore and the wrong password: refused, nothing written."""
    ks = tmp_path / "key.json"
    ks.write_text(json.dumps(Account.encrypt(Account.create().key, "right horse battery")))
    monkeypatch.setenv("CITYLEDGER_NETWORK", "sepolia")
    monkeypatch.setenv("CITYLEDGER_RPC_URL", devnet.rpc_url)
    monkeypatch.setenv("CITYLEDGER_CHAIN_ID", "31337")
    monkeypatch.setenv("CITYLEDGER_KEYSTORE", str(ks))
    monkeypatch.setenv("CITYLEDGER_KEYSTORE_PASSWORD", "wrong")
    before = snapshot(devnet.cfg.deployments_dir, devnet.cfg.data_dir, tmp_path)
    code, out, err = cli("deploy", "--network", "sepolia")
    assert code != 0 and "Traceback" not in err and "password" in err.lower(), err
    assert snapshot(devnet.cfg.deployments_dir, devnet.cfg.data_dir, tmp_path) == before


# ----- every numeric option of the tree: range-checked before anything touches the chain or the store

# Where 0 is a valid value: a first version supersedes 0, account 0 is the deployer, block 0 genesis.
ACCEPTS_ZERO = {"supersedes", "from_account", "block"}
TOO_BIG = str(2**256)  # 2**256 written out: past every uint256, not only past the store's BIGINT


def numeric_params() -> list[tuple[list[str], object, object]]:
    """(command words, command, parameter) for every int or float parameter of the Typer tree."""
    out = []

    def walk(c, words):
        for name, sub in getattr(c, "commands", {}).items():
            walk(sub, [*words, name])
        for p in c.params:
            desc = getattr(p, "type_descriptor", None)
            if desc is not None and desc.annotation in (int, float):
                out.append((words, c, p))

    walk(typer.main.get_command(app), [])
    return out


def argv_for(words, command, param, value: str, folder) -> list[str]:
    """The command with `param` set to `value` and every other required parameter a harmless filler."""
    filler = {int: "1", float: "1", list[int]: "1"}  # list[int]: ids given as arguments (obligations confirm)
    options, positionals = [], []
    for p in command.params:
        desc = getattr(p, "type_descriptor", None)
        text = value if p is param else filler.get(desc.annotation, str(folder / "rows.csv"))
        if p is not param and not p.required:
            continue
        if p.param_type_name == "argument":
            positionals.append(text)
        elif p is param and value.startswith("-"):
            options.append(f"{p.opts[0]}={text}")  # --dataset=-1: the form that cannot read as an option
        else:
            options += [p.opts[0], text]
    return [*words, *options, "--", *positionals]


class Sentinel:
    """A TCP listener standing in for the RPC node: counts every connection made to it."""

    def __init__(self):
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


def run_raw(capsys, argv: list[str]) -> tuple[int, str, str]:
    """`cityledger ARGV` in-process through the entry point, stderr as printed (not unwrapped)."""
    import sys

    from cityledger.cli import main

    saved, sys.argv = sys.argv, ["cityledger", *argv]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """The CLI pointed at a sentinel RPC and a store that does not exist yet; a wide terminal."""
    sentinel = Sentinel()
    (tmp_path / "rows.csv").write_text("id,value\n1,a\n")
    monkeypatch.setenv("CITYLEDGER_RPC_URL", sentinel.url)
    monkeypatch.setenv("CITYLEDGER_DB_URL", f"sqlite:///{tmp_path}/store/index.db")
    monkeypatch.setenv("CITYLEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CITYLEDGER_DEPLOYMENTS_DIR", str(tmp_path / "deployments"))
    monkeypatch.setenv("COLUMNS", "250")  # one message is one line when the terminal has room
    try:
        yield tmp_path, sentinel
    finally:
        sentinel.sock.close()


def test_every_numeric_parameter_has_a_declared_kind():
    from cityledger.cli.numbers import KINDS

    params = numeric_params()
    assert len(params) >= 25
    assert {p.name for _, _, p in params} - set(KINDS) == set(), "give the new numeric option a Kind in cli/numbers.py"


@pytest.mark.parametrize(
    "words,command,param", [pytest.param(*t, id=" ".join(t[0]) + " " + t[2].name) for t in numeric_params()]
)
def test_bad_numbers_are_one_line_usage_errors_before_any_io(capsys, isolated, words, command, param):
    """Issue 13: `verify-row p.json --dataset -5` (also --dataset=-1 and 2**256) printed an 82-line
    eth_abi traceback. Every numeric parameter of the tree, given -1, 0 (where 0 is invalid), 2**256
    (literally, and written out), a non-number, NaN and infinity: exit 2, one line naming the
    parameter, no traceback, no connection to the RPC, no store or data folder created."""
    folder, sentinel = isolated
    bad = ["-1", "2**256", TOO_BIG, "twelve", "1.5" if param.type_descriptor.annotation is int else "nan", "inf"]
    if param.name not in ACCEPTS_ZERO:
        bad.append("0")
    name = param.opts[0] if param.param_type_name == "option" else param.name
    for value in bad:
        argv = argv_for(words, command, param, value, folder)
        code, out, err = run_raw(capsys, argv)
        assert code == 2, f"{argv}: exit {code}: {out}{err}"
        assert "Traceback" not in out + err
        message = [
            line
            for line in (raw.strip("│╭╮╰╯─ ") for raw in err.splitlines())
            if line and not line.startswith(("Usage:", "Try '", "Error"))
        ]
        assert len(message) == 1 and f"Invalid value for '{name}'" in message[0], (argv, err)
    assert sentinel.connections == 0
    assert sorted(p.name for p in folder.iterdir()) == ["rows.csv"]


@pytest.mark.parametrize(
    "words,command,param", [pytest.param(*t, id=" ".join(t[0]) + " " + t[2].name) for t in numeric_params()]
)
def test_good_numbers_still_parse(isolated, words, command, param):
    """The ranges refuse only what is wrong: 1 (and 0 where 0 means something) parse."""
    folder, _ = isolated
    for value in ["1", "0"] if param.name in ACCEPTS_ZERO else ["1"]:
        argv = argv_for(words, command, param, value, folder)
        ctx = command.make_context(words[-1], argv[len(words) :])
        assert ctx.params[param.name] == 1 if value == "1" else ctx.params[param.name] == 0
