"""A virtual browser that speaks Streamlit's websocket protocol with Streamlit's own protobufs.

What a browser does, read from Streamlit's source (web/server/starlette/starlette_websocket.py,
runtime/app_session.py, runtime/forward_msg_cache.py): GET the page (a proxy may set its affinity cookie
there), open ``/_stcore/stream`` with the subprotocol ``streamlit``, send a ``rerun_script`` BackMsg with the
page's address (``page_name``, ``query_string``), then one per widget change (the widget's id and new value in
``widget_states``) or page change (``page_script_hash``). Every rerun also lists the hashes of the large elements
the browser already holds (``cached_message_hashes``), so the server sends a reference instead of an unchanged
map. Downloads are deferred: a ``backend_operation_request`` returns a ``/media`` address that is fetched over
HTTP from the same replica. Used by benchmarks/bench_load.py and the cluster test.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import ssl
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection

RUN_TIMEOUT_S = 60.0
_NO_VERIFY = ssl.create_default_context()
_NO_VERIFY.check_hostname = False
_NO_VERIFY.verify_mode = ssl.CERT_NONE  # loopback tests against a self-signed certificate


def run(coro):
    """``asyncio.run`` in a thread of its own: a test process may already run an event loop in its main thread
    (Playwright's sync API does, once a browser test has started)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass
class Widget:
    """A widget of the last run: id, kind (selectbox …), shown options, current option."""
    id: str
    kind: str
    options: list[str]
    current: str | None


@dataclass
class Run:
    """One rerun as the browser sees it: time from sending to script_finished, payload bytes (Streamlit's
    messages) and wire bytes (as received, after websocket compression), what went wrong."""
    ms: float
    bytes: int
    wire: int
    errors: list[str] = field(default_factory=list)


class CountingConnection(ClientConnection):
    """A websocket connection that counts the bytes arriving from the network."""
    received = 0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        super().data_received(data)


class Browser:
    """One visitor: one websocket session on a Streamlit server (directly or through a proxy)."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.cookies: dict[str, str] = {}
        self.widgets: dict[str, Widget] = {}  # by label
        self.pages: dict[str, str] = {}  # url path → page_script_hash
        self.downloads: dict[str, str] = {}  # label → deferred file id
        self.elements: list[str] = []  # kinds of the elements of the last run (markdown, deck_gl_json_chart …)
        self.cached: set[str] = set()  # hashes of cacheable elements received
        self.session_id = ""
        self.page_hash = ""  # the page the server last ran
        self.timers: dict[str, int] = {}  # fragment id → milliseconds: st.fragment(run_every=…) the browser re-runs
        self.query = ""
        self.ws = None

    def _http(self, path: str) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(self.base + path)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        with urllib.request.urlopen(request, timeout=30, context=_NO_VERIFY if self.base.startswith("https")
                                    else None) as response:
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies.update({k: m.value for k, m in SimpleCookie(header).items()})
            return response.status, dict(response.headers), response.read()

    async def get(self, path: str) -> tuple[int, dict, bytes]:
        """An HTTP GET with this visitor's cookies (a thread: urllib blocks)."""
        return await asyncio.to_thread(self._http, path)

    async def open(self, page: str, query: str = "") -> Run:
        """Load ``/page?query`` as a browser does: the HTML, then the websocket and the first run."""
        await self.get(f"/{page}" + (f"?{query}" if query else ""))
        ws_url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else None
        # no keepalive pings: a browser sends none (a busy server would otherwise look like a lost connection)
        self.ws = await websockets.connect(ws_url, create_connection=CountingConnection, subprotocols=["streamlit"],
                                           max_size=None,
                                           additional_headers=headers, open_timeout=30, ping_interval=None,
                                           ssl=_NO_VERIFY if ws_url.startswith("wss") else None)
        self.query = query
        return await self.rerun(page_name=page)

    async def change(self, label: str, option: str) -> Run:
        """Pick ``option`` in the widget labelled ``label`` (selectbox, radio, select_slider)."""
        w = self.widgets[label]
        msg = BackMsg()
        state = msg.rerun_script.widget_states.widgets.add()
        state.id = w.id
        if w.kind == "slider":
            state.string_array_value.data.append(option)
        else:
            state.string_value = option
        return await self._send(msg)

    async def rerun(self, page_name: str = "", page_hash: str = "") -> Run:
        """A rerun of a page by its address (first visit) or by its hash (a click in the navigation)."""
        msg = BackMsg()
        msg.rerun_script.page_name = page_name
        msg.rerun_script.page_script_hash = page_hash
        return await self._send(msg)

    async def tick(self, fragment_id: str) -> Run:
        """What the browser's timer does for an ``st.fragment(run_every=…)``: a rerun of that fragment only."""
        msg = BackMsg()
        msg.rerun_script.fragment_id = fragment_id
        msg.rerun_script.page_script_hash = self.page_hash
        return await self._send(msg)

    async def _send(self, msg: BackMsg) -> Run:
        msg.rerun_script.query_string = self.query
        msg.rerun_script.cached_message_hashes.extend(sorted(self.cached))
        started, wire = time.perf_counter(), self.ws.received
        await self.ws.send(msg.SerializeToString())
        self.widgets, self.downloads, self.elements = {}, {}, []
        size, errors = 0, []
        while True:
            data = await asyncio.wait_for(self.ws.recv(), RUN_TIMEOUT_S)
            size += len(data)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if fwd.metadata.cacheable:
                self.cached.add(fwd.hash)
            if kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
                self.page_hash = fwd.new_session.page_script_hash
            elif kind == "auto_rerun":
                self.timers[fwd.auto_rerun.fragment_id] = round(fwd.auto_rerun.interval * 1000)
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
            elif kind == "page_info_changed":
                self.query = fwd.page_info_changed.query_string
            elif kind == "page_not_found":
                errors.append("page not found")
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                errors += self._element(fwd.delta.new_element)
            elif kind == "script_finished":
                if fwd.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    errors.append("script error")
                if fwd.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    return Run((time.perf_counter() - started) * 1000, size, self.ws.received - wire, errors)

    def _element(self, element) -> list[str]:
        """Remember widgets and downloads; report what a visitor would see as an error."""
        kind = element.WhichOneof("type")
        self.elements.append(kind)
        if kind == "exception":
            return [f"exception: {element.exception.message}"]
        if kind == "alert" and element.alert.format == Alert.ERROR:
            return [f"error: {element.alert.body}"]
        if kind == "download_button":
            self.downloads[element.download_button.label] = element.download_button.deferred_file_id
        elif kind in ("selectbox", "radio", "slider"):
            w = getattr(element, kind)
            if kind == "slider" and not w.options:
                return []  # a numeric slider: not driven here
            options = list(w.options)
            current = w.raw_value if kind != "slider" and w.set_value else None
            self.widgets[w.label] = Widget(w.id, kind, options, current)
        return []

    async def download(self, label: str) -> bytes:
        """Press a (deferred) download button: ask the server for the file's address, then fetch it."""
        msg = BackMsg()
        request = msg.backend_operation_request
        request.request_id, request.session_id = str(uuid.uuid4()), self.session_id
        request.deferred_file.file_id = self.downloads[label]
        await self.ws.send(msg.SerializeToString())
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(self.ws.recv(), RUN_TIMEOUT_S))
            response = fwd.backend_operation_response
            if fwd.WhichOneof("type") == "backend_operation_response" and response.request_id == request.request_id:
                if response.error_msg:
                    raise RuntimeError(f"download refused: {response.error_msg}")
                _, _, body = await self.get(response.deferred_file.url)
                return body

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
