"""The HTTP API (FastAPI): read-only queries over the index, the signed-consent relayer, and the
built web page at /.

Errors are always {"error": {"code", "message"}}: 400 bad input, 404 unknown id or route, 405,
422 schema violations and relayer rejections, 429 rate limit, 503 store or node unreachable.
"""

import logging
import threading
import time
from pathlib import Path
from typing import Annotated

from fastapi import Body, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError, ProgrammingError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import codes
from ..config import Config, load_config
from ..errors import CityLedgerError, NetworkError
from ..indexer.store import make_engine
from ..release.snapshots import SnapshotIndex
from . import queries
from . import schemas as s
from . import validate as v
from .errors import ApiError, BadInput, NotFound, Unavailable
from .metadata import MetadataLoader
from .relayer import Relayer, parse_request, relayer_account

log = logging.getLogger("cityledger.api")

ERRORS = {400: {"model": s.ErrorBody}, 404: {"model": s.ErrorBody}, 422: {"model": s.ErrorBody}}
PageNo = Annotated[int, Query(ge=1, le=10**9, description="page number, from 1")]
PageSize = Annotated[int, Query(ge=1, le=v.MAX_PAGE_SIZE, description=f"items per page (max {v.MAX_PAGE_SIZE})")]
AsOf = Annotated[int | None, Query(ge=0, le=v.ID_MAX, description="answer as of this block (default: last indexed)")]


def _error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body")) or "request"
        msg = err.get("msg", "invalid")
        if err.get("type") == "less_than_equal" and loc.endswith("page_size"):
            msg = f"must be at most {v.MAX_PAGE_SIZE} (the page-size limit)"
        given = err.get("input")
        if given is not None and not isinstance(given, (dict, list)):
            msg += f" (got {str(given)[:40]!r})"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts) or "invalid request"


class Chain:
    """The node as the API sees it: a short-timeout connection made on first use, cached briefly."""

    def __init__(self, cfg: Config, network, timeout: float):
        self.cfg, self.network, self.timeout = cfg, network, timeout
        self._w3 = None
        self._head: tuple[float, int | None] = (0.0, None)
        self._timestamps: dict[int, int] = {}
        self._lock = threading.Lock()

    def w3(self):
        if self._w3 is None:
            from web3 import HTTPProvider, Web3

            self._w3 = Web3(HTTPProvider(self.network.rpc_url, request_kwargs={"timeout": self.timeout}))
        return self._w3

    def head(self) -> int | None:
        """The node's latest block, or None if it does not answer (re-asked at most once a second)."""
        at, head = self._head
        if time.monotonic() - at < 1.0:
            return head
        try:
            head = self.w3().eth.block_number
        except Exception:
            head = None
        self._head = (time.monotonic(), head)
        return head

    def timestamp(self, block: int) -> int:
        if block not in self._timestamps:
            ts = int(self.w3().eth.get_block(block)["timestamp"])
            with self._lock:
                if len(self._timestamps) > 10_000:
                    self._timestamps.clear()
                self._timestamps[block] = ts
        return self._timestamps[block]


def create_app(
    cfg: Config | None = None,
    *,
    db_url: str | None = None,
    network: str | None = None,
    data_dir: Path | None = None,
    frontend_dir: Path | None = None,
    cors_origins: list[str] | None = None,
    relayer: Relayer | None = None,
    relay_per_minute: float = 6,
    relay_burst: int | None = None,
    rpc_timeout: float = 1.0,
) -> FastAPI:
    """The API for a config (default: the project's), store URL, network and data folder."""
    cfg = cfg or load_config()
    net = cfg.network(network)
    db_url = db_url or cfg.db_url
    data_dir = Path(data_dir or cfg.data_dir)
    engine = make_engine(db_url, **({"pool_size": 20, "max_overflow": 20} if db_url.startswith("sqlite") else {}))
    chain = Chain(cfg, net, rpc_timeout)
    snapshots = SnapshotIndex(data_dir)
    relay_state: dict = {"relayer": relayer}
    relay_lock = threading.Lock()
    if cors_origins is None:
        cors_origins = [f"http://{cfg.api_host}:{cfg.api_port}", f"http://localhost:{cfg.api_port}"]

    app = FastAPI(
        title="CityLedger API",
        version="1",
        description="Datasets, consent, access, releases and rights requests of a city, from the on-chain index. "
        'Read-only except the signed-consent relayer. Errors: {"error": {"code", "message"}}.',
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.snapshots = snapshots
    app.add_middleware(
        CORSMiddleware, allow_origins=cors_origins, allow_methods=["GET", "POST"], allow_headers=["Content-Type"]
    )

    # ------------------------------------------------------------ errors

    @app.exception_handler(ApiError)
    async def _api_error(_req: Request, exc: ApiError):
        return _error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError):
        return _error(422, "validation_error", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such route or file (the API is under /api; see /docs)"
        return _error(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    @app.exception_handler(ProgrammingError)
    async def _store_down(_req: Request, exc: Exception):
        log.warning("store unavailable: %s", getattr(exc, "orig", exc))
        return _error(
            503,
            "store_unavailable",
            "the index store cannot be read now (not created yet, not yet migrated by the indexer, or locked); retry",
        )

    @app.exception_handler(NetworkError)
    async def _node_down(_req: Request, exc: NetworkError):
        return _error(503, "node_unavailable", str(exc))

    @app.exception_handler(CityLedgerError)
    async def _cityledger(_req: Request, exc: CityLedgerError):
        return _error(400, "bad_request", str(exc))

    @app.exception_handler(Exception)
    async def _bug(_req: Request, exc: Exception):  # a bug: logged with its traceback, a clean body
        log.exception("unhandled error", exc_info=exc)
        return _error(500, "internal_error", "internal error (logged); please report it")

    # ------------------------------------------------------------ dependencies

    # Point queries run on the event loop: a SQLite lookup takes well under a millisecond, and a
    # thread hop per request (plus GIL hand-offs between pool threads) costs more than the query
    # and makes the tail latency. Scans and anything that may call the node use the thread pool.
    async def conn():
        with engine.connect() as c:
            yield c

    Conn = Annotated[object, Depends(conn)]

    async def maybe_slow(as_of_block, fn, *args, **kwargs):
        """As of an older block the answer replays history and may ask the node for a block's
        timestamp: that runs in the thread pool; the latest-block answer is a point lookup."""
        if as_of_block is None:
            return fn(*args, **kwargs)
        return await run_in_threadpool(fn, *args, **kwargs)

    def rpc_ts(block: int) -> int:
        return chain.timestamp(block)

    def dataset_ref(ref: str) -> int | str:
        ref = ref.strip()
        if ref.isdigit():
            return v.positive_id(ref, "dataset id")
        if ref.startswith("0x"):
            return v.hash32(ref, "content hash")
        raise BadInput(f"dataset must be an id (1, 2, ...) or a 0x content hash, got {ref[:80]!r}")

    metadata_loader = MetadataLoader(data_dir, cfg.root)

    def paged(out: dict) -> dict:
        return {k: out[k] for k in ("items", "page", "page_size", "total")}

    # ------------------------------------------------------------ status and reference

    @app.get("/api/status", response_model=s.Status, tags=["status"], responses=ERRORS)
    def status(c: Conn):
        return queries.index_status(c, chain.head(), net, cfg.confirmations)

    @app.get("/api/deployment", response_model=s.DeploymentInfo, tags=["status"], responses=ERRORS)
    def deployment():
        from ..chain.artifacts import load_artifact
        from ..chain.deployments import load_deployment

        try:
            dep = load_deployment(net.chain_id, cfg)
        except CityLedgerError as exc:
            raise NotFound(str(exc)) from None
        contracts = {}
        for name, info in dep.contracts.items():
            try:
                abi = load_artifact(name, cfg).abi
            except CityLedgerError:
                abi = []
            contracts[name] = {"address": info["address"], "abi": abi}
        return {
            "chain_id": dep.chain_id,
            "network": dep.network,
            "rpc_url": net.rpc_url,
            "start_block": dep.start_block,
            "contracts": contracts,
        }

    @app.get("/api/purposes", response_model=list[s.Purpose], tags=["status"])
    async def purposes():
        return [
            {"name": n, "label": label, "iri": codes.DPV + n, "hash": "0x" + codes.purpose_hash(n).hex()}
            for n, label in codes.PURPOSES.items()
        ]

    # ------------------------------------------------------------ datasets

    @app.get("/api/datasets", response_model=s.Page[s.Dataset], tags=["datasets"], responses=ERRORS)
    def datasets(
        c: Conn,
        q: Annotated[
            str | None,
            Query(
                max_length=200,
                description="words of the DCAT title, description or keywords (case-insensitive), text of the metadata URI, or a 0x content-hash prefix",
            ),
        ] = None,
        domain: Annotated[str | None, Query(description="domain name (health, ...) or code 1..12")] = None,
        publisher: Annotated[str | None, Query(description="publisher address")] = None,
        status: Annotated[str | None, Query(description="active | superseded | withdrawn | all")] = None,
        since: Annotated[str | None, Query(description="registered at or after (unix time or ISO date)")] = None,
        until: Annotated[str | None, Query(description="registered before (unix time or ISO date)")] = None,
        page: PageNo = 1,
        page_size: PageSize = 20,
    ):
        st = v.choice(status, ("active", "superseded", "withdrawn", "all"), "status")
        return paged(
            queries.list_datasets(
                c,
                q=q,
                domain=v.domain(domain),
                publisher=v.address(publisher, "publisher") if publisher else None,
                status=None if st == "all" else st,
                since=queries.parse_time(since, "since"),
                until=queries.parse_time(until, "until"),
                page=page,
                page_size=page_size,
            )
        )

    DatasetRef = Annotated[str, PathParam(description="dataset id or 0x content hash")]

    @app.get("/api/datasets/{ref}", response_model=s.DatasetDetail, tags=["datasets"], responses=ERRORS)
    async def dataset(c: Conn, ref: DatasetRef):
        return queries.dataset(c, dataset_ref(ref), metadata_loader)

    @app.get("/api/datasets/{ref}/versions", response_model=s.Page[s.Dataset], tags=["datasets"], responses=ERRORS)
    async def dataset_versions(c: Conn, ref: DatasetRef, page: PageNo = 1, page_size: PageSize = 100):
        return queries.page_of(queries.versions(c, dataset_ref(ref)), page, page_size)

    @app.get(
        "/api/datasets/{ref}/attestations", response_model=s.Page[s.Attestation], tags=["datasets"], responses=ERRORS
    )
    async def dataset_attestations(c: Conn, ref: DatasetRef, page: PageNo = 1, page_size: PageSize = 100):
        return paged(queries.attestations(c, dataset_ref(ref), page=page, page_size=page_size))

    @app.get("/api/datasets/{ref}/consent-counts", response_model=s.ConsentCounts, tags=["consent"], responses=ERRORS)
    async def consent_counts(c: Conn, ref: DatasetRef, as_of_block: AsOf = None):
        return await maybe_slow(as_of_block, queries.dataset_consent_counts, c, dataset_ref(ref), as_of_block, rpc_ts)

    @app.get("/api/verify/{content_hash}", response_model=s.Verification, tags=["datasets"], responses=ERRORS)
    async def verify(c: Conn, content_hash: str):
        return queries.verify(c, v.hash32(content_hash, "content_hash"))

    # ------------------------------------------------------------ citizens and consent

    @app.get("/api/citizens/{address}/consents", response_model=s.Page[s.Consent], tags=["consent"], responses=ERRORS)
    async def citizen_consents(
        c: Conn,
        address: str,
        state: Annotated[str | None, Query(description="active | expired | revoked | all")] = None,
        as_of_block: AsOf = None,
        page: PageNo = 1,
        page_size: PageSize = 100,
    ):
        st = v.choice(state, ("active", "expired", "revoked", "all"), "state")
        out = await maybe_slow(
            as_of_block,
            queries.citizen_consents,
            c,
            v.address(address, "citizen"),
            state=st,
            block=as_of_block,
            rpc_timestamp=rpc_ts,
            page=page,
            page_size=page_size,
        )
        return paged(out)

    @app.get("/api/citizens/{address}/used", response_model=s.Page[s.UsedRelease], tags=["consent"], responses=ERRORS)
    async def citizen_used(c: Conn, address: str, page: PageNo = 1, page_size: PageSize = 100):
        return queries.used_by(c, snapshots, v.address(address, "citizen"), page=page, page_size=page_size)

    @app.get(
        "/api/citizens/{address}/rights", response_model=s.Page[s.RightsRequest], tags=["rights"], responses=ERRORS
    )
    async def citizen_rights(c: Conn, address: str, page: PageNo = 1, page_size: PageSize = 100):
        return paged(queries.list_rights(c, citizen=v.address(address, "citizen"), page=page, page_size=page_size))

    @app.get("/api/consents/check", response_model=s.ConsentCheck, tags=["consent"], responses=ERRORS)
    async def consent_check(
        c: Conn,
        citizen: Annotated[str, Query(description="citizen address")],
        purpose: Annotated[str, Query(description="DPV purpose name or 0x hash")],
        scope_kind: Annotated[str, Query(description="dataset | publisher | domain (or 1..3)")],
        scope_id: Annotated[str, Query(description="0x bytes32, or a dataset id / publisher address / domain")],
        grantee: Annotated[
            str, Query(description="grantee address (0x000...0: any researcher)")
        ] = codes.ANY_RESEARCHER,
        as_of_block: AsOf = None,
    ):
        from .relayer import consent_key_hex

        kind = v.scope_kind(scope_kind)
        key = consent_key_hex(
            v.address(citizen, "citizen"),
            v.purpose(purpose),
            kind,
            v.scope_id(kind, scope_id),
            v.address(grantee, "grantee"),
        )
        return await maybe_slow(as_of_block, queries.consent_check, c, key=key, block=as_of_block, rpc_timestamp=rpc_ts)

    # ------------------------------------------------------------ access, releases, rights, stats

    @app.get("/api/access", response_model=s.Page[s.Access], tags=["access"], responses=ERRORS)
    async def access(
        c: Conn,
        dataset_id: Annotated[int | None, Query(ge=1, le=v.ID_MAX)] = None,
        grantee: str | None = None,
        status: Annotated[str | None, Query(description="requested | granted | refused | ended")] = None,
        page: PageNo = 1,
        page_size: PageSize = 20,
    ):
        return paged(
            queries.list_access(
                c,
                dataset_id=dataset_id,
                grantee=v.address(grantee, "grantee") if grantee else None,
                status=v.choice(status, tuple(codes.ACCESS_STATUS_NAMES.values()), "status"),
                page=page,
                page_size=page_size,
            )
        )

    @app.get("/api/releases", response_model=s.Page[s.Release], tags=["access"], responses=ERRORS)
    async def releases(
        c: Conn,
        dataset_id: Annotated[int | None, Query(ge=1, le=v.ID_MAX)] = None,
        grantee: str | None = None,
        page: PageNo = 1,
        page_size: PageSize = 20,
    ):
        return paged(
            queries.list_releases(
                c,
                dataset_id=dataset_id,
                grantee=v.address(grantee, "grantee") if grantee else None,
                page=page,
                page_size=page_size,
            )
        )

    @app.get("/api/rights", response_model=s.Page[s.RightsRequest], tags=["rights"], responses=ERRORS)
    async def rights(
        c: Conn,
        publisher: str | None = None,
        status: Annotated[str | None, Query(description="open | fulfilled | refused | withdrawn")] = None,
        overdue: bool = False,
        page: PageNo = 1,
        page_size: PageSize = 20,
    ):
        return paged(
            queries.list_rights(
                c,
                publisher=v.address(publisher, "publisher") if publisher else None,
                status=v.choice(status, tuple(codes.RIGHTS_STATUS_NAMES.values()), "status"),
                overdue=overdue,
                page=page,
                page_size=page_size,
            )
        )

    @app.get("/api/stats/domains", response_model=list[s.DomainStat], tags=["stats"])
    def stats_domains(c: Conn):
        return queries.domain_stats(c)

    @app.get("/api/stats/consent-timeline", response_model=list[s.TimelinePoint], tags=["stats"], responses=ERRORS)
    def stats_timeline(c: Conn, days: Annotated[int | None, Query(ge=1, le=3650)] = None):
        return queries.consent_timeline(c, days)

    # ------------------------------------------------------------ relayer

    def get_relayer() -> Relayer:
        with relay_lock:
            if relay_state["relayer"] is None:
                from ..chain.deployments import contract, load_deployment

                account = relayer_account(net)
                if account is None:
                    raise Unavailable("no relayer account: set CITYLEDGER_RELAYER_KEY (devnet: account 5)")
                from web3 import HTTPProvider, Web3

                w3 = Web3(HTTPProvider(net.rpc_url, request_kwargs={"timeout": 10}))
                try:
                    chain_id = w3.eth.chain_id
                except Exception:
                    raise Unavailable(f"the node at {net.rpc_url} does not answer; retry later") from None
                if chain_id != net.chain_id:
                    raise Unavailable(
                        f"the node is chain {chain_id}, the config says {net.chain_id}: refusing to relay"
                    )
                try:
                    dep = load_deployment(net.chain_id, cfg)
                except CityLedgerError as exc:
                    raise Unavailable(str(exc)) from None
                relay_state["relayer"] = Relayer(
                    w3,
                    contract(w3, dep, "ConsentRegistry", cfg),
                    account,
                    per_minute=relay_per_minute,
                    burst=relay_burst,
                )
            return relay_state["relayer"]

    def client_host(request: Request) -> str:
        # The peer address: behind a reverse proxy every client shares it (see docs/API.md).
        return request.client.host if request.client else "unknown"

    RELAY_ERRORS = {**ERRORS, 429: {"model": s.ErrorBody}, 503: {"model": s.ErrorBody}}

    @app.post("/api/relay/grant", response_model=s.RelayResult, tags=["relayer"], responses=RELAY_ERRORS)
    def relay_grant(request: Request, body: Annotated[s.RelayGrant, Body()]):
        req = parse_request("grant", body.model_dump())
        return {"tx_hash": get_relayer().relay(req, client_host(request))}

    @app.post("/api/relay/revoke", response_model=s.RelayResult, tags=["relayer"], responses=RELAY_ERRORS)
    def relay_revoke(request: Request, body: Annotated[s.RelayRevoke, Body()]):
        req = parse_request("revoke", body.model_dump())
        return {"tx_hash": get_relayer().relay(req, client_host(request))}

    # ------------------------------------------------------------ the web page

    dist = Path(frontend_dir) if frontend_dir else cfg.root / "frontend" / "dist"
    if (dist / "index.html").is_file():
        app.mount("/", StaticFiles(directory=dist, html=True), name="frontend")
    return app
