"""Throwaway PostgreSQL cluster for the test suite (stdlib + psycopg only).

PostgreSQL refuses to run as root and CI runs as root, so as root the server runs as `nobody`
via `runuser`.

``PostgresCluster(in_memory=True)`` (the test suite's) keeps its data directory on a tmpfs
(/dev/shm) when one with room is mounted: on this project's ext4 disk a ``CREATE DATABASE``
from the migrated template cost about 0.5 s of system time (the file creations), on tmpfs
about 0.02 s, and the suite makes one per PostgreSQL test. Benchmarks keep the disk.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

DEFAULT_BIN_DIR = "/usr/lib/postgresql/15/bin"
UNPRIVILEGED_USER = "nobody"

_SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}

# An in-memory cluster's WAL is capped (checkpoints are cheap in memory) so that its files stay
# well below the room it asks of the tmpfs.
_IN_MEMORY_SETTINGS = {"max_wal_size": "'256MB'", "min_wal_size": "'64MB'"}
IN_MEMORY_ROOT = "/dev/shm"
# Free space a cluster needs on the tmpfs, or it goes on disk (a container's /dev/shm is
# often 64 MB): its WAL, the templates and the databases the tests have open at once.
IN_MEMORY_ROOM = 2 * 1024**3

_live_clusters: set[PostgresCluster] = set()


def find_bin_dir() -> str | None:
    """Locate a directory holding the PostgreSQL server binaries, or None if there is none."""
    env = os.environ.get("CONFLICTDB_PG_BIN")
    if env:
        return env
    if _has_pg_ctl(DEFAULT_BIN_DIR):
        return DEFAULT_BIN_DIR
    candidates = [d for d in glob.glob("/usr/lib/postgresql/*/bin") if _has_pg_ctl(d)]
    if candidates:
        return max(candidates, key=_major_version)
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return os.path.dirname(os.path.realpath(pg_ctl))
    return None


def _has_pg_ctl(bin_dir: str) -> bool:
    return os.access(os.path.join(bin_dir, "pg_ctl"), os.X_OK)


def _major_version(bin_dir: str) -> tuple[int, ...]:
    # Sort numerically so that 9.6 < 10 < 15.
    name = Path(bin_dir).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def _has_room(root: str) -> bool:
    """Whether ``root`` is a writable directory with room for an in-memory cluster."""
    try:
        stat = os.statvfs(root)
    except OSError:
        return False
    return os.access(root, os.W_OK | os.X_OK) and stat.f_bavail * stat.f_frsize >= IN_MEMORY_ROOM


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_env() -> dict[str, str]:
    # Stray PG* variables (PGDATA, PGPORT, PGHOST, ...) from the developer's shell must not
    # redirect initdb/pg_ctl to some other cluster. An inherited LANG naming a locale that is
    # not installed makes initdb fail before it even looks at --locale.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<no log: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


class PostgresCluster:
    """A private PostgreSQL cluster in a temp dir, listening on 127.0.0.1 and a unix socket."""

    def __init__(
        self, bin_dir: str | None = None, port: int | None = None, *, in_memory: bool = False
    ) -> None:
        resolved = bin_dir or find_bin_dir()
        if resolved is None:
            raise RuntimeError(
                "PostgreSQL server binaries not found; set CONFLICTDB_PG_BIN to the directory "
                "containing pg_ctl"
            )
        self.bin_dir = resolved
        self._requested_port = port
        self.in_memory = in_memory
        self.port: int | None = port
        self.base_dir: Path | None = None
        self.socket_dir: Path | None = None
        self._running = False
        # A forked child (e.g. a test worker) inherits this object and the atexit hook; only the
        # process that started the server may stop it.
        self._owner_pid: int | None = None

    # -- paths -------------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path | None:
        return self.base_dir / "data" if self.base_dir else None

    @property
    def log_file(self) -> Path | None:
        return self.base_dir / "postgres.log" if self.base_dir else None

    @property
    def running(self) -> bool:
        return self._running

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._running:
            raise RuntimeError("cluster already started")
        self._make_dirs()
        try:
            self._initdb()
            self._start_server()
        except BaseException:
            # pg_ctl may have launched a postmaster before timing out or being interrupted.
            self._stop_server()
            self._remove_dirs()
            raise
        self._running = True
        self._owner_pid = os.getpid()
        _live_clusters.add(self)

    def stop(self) -> None:
        if self._owner_pid is not None and self._owner_pid != os.getpid():
            return
        if self._running and self.data_dir is not None:
            self._stop_server()
        self._running = False
        self._owner_pid = None
        _live_clusters.discard(self)
        self._remove_dirs()

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- URLs and databases ------------------------------------------------------------------

    @property
    def admin_url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self._port()}/{quote(dbname, safe='')}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return make_conninfo(host="127.0.0.1", port=self._port(), user="postgres", dbname=dbname)

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create `name` (optionally cloned from `template`) and return its SQLAlchemy URL.

        Cloning fails if anything is still connected to the template database.
        """
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            stmt = sql.SQL("{} TEMPLATE {}").format(stmt, sql.Identifier(template))
        self._execute_admin(stmt)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        self._execute_admin(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def _execute_admin(self, stmt: sql.Composable) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction block.
        with psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(stmt)  # type: ignore[call-overload]  # psycopg takes a Composable

    def _port(self) -> int:
        if self.port is None:
            raise RuntimeError("cluster has no port yet; call start() first")
        return self.port

    # -- internals ---------------------------------------------------------------------------

    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _make_dirs(self) -> None:
        # Under /tmp rather than $TMPDIR: the unix socket path must stay under ~107 bytes.
        tmp_root = "/tmp" if os.path.isdir("/tmp") else None
        data_root = IN_MEMORY_ROOT if self.in_memory and _has_room(IN_MEMORY_ROOT) else tmp_root
        self.base_dir = Path(tempfile.mkdtemp(prefix="conflictdb-pg-", dir=data_root))
        self.socket_dir = Path(tempfile.mkdtemp(prefix="conflictdb-pgsock-", dir=tmp_root))
        data_dir = self.data_dir
        assert data_dir is not None
        data_dir.mkdir(mode=0o700)
        if self._as_root():
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            for path in (self.base_dir, data_dir, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
            # Owning the leaf directories is useless if nobody cannot traverse their parents;
            # fail clearly here instead of with a cryptic initdb permission error.
            for parent in self.base_dir.parents:
                if not parent.stat().st_mode & 0o001:
                    self._remove_dirs()
                    raise RuntimeError(
                        f"{parent} is not traversable by {UNPRIVILEGED_USER}; "
                        "cannot run PostgreSQL there"
                    )

    def _remove_dirs(self) -> None:
        for path in (self.base_dir, self.socket_dir):
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)
        self.base_dir = None
        self.socket_dir = None

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [os.path.join(self.bin_dir, args[0]), *args[1:]]
        if self._as_root():
            cmd = ["runuser", "-u", UNPRIVILEGED_USER, "--", *cmd]
        assert self.base_dir is not None
        # cwd must be a directory `nobody` can enter: its HOME (/nonexistent) does not exist.
        try:
            return subprocess.run(
                cmd,
                cwd=self.base_dir,
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"{args[0]} {args[1]} timed out after {timeout}s") from exc

    def _initdb(self) -> None:
        base = ["initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        base += ["--no-sync", "--no-instructions"]
        errors = []
        # C.UTF-8 is missing on some minimal images; plain C is always there.
        for locale in ("C.UTF-8", "C"):
            result = self._run(*base, f"--locale={locale}")
            if result.returncode == 0:
                break
            errors.append(f"--locale={locale}: {result.stdout}{result.stderr}".strip())
            self._reset_data_dir()
        else:
            raise RuntimeError("initdb failed:\n" + "\n\n".join(errors))

        assert self.data_dir is not None
        settings = dict(_SERVER_SETTINGS, unix_socket_directories=f"'{self.socket_dir}'")
        if self.in_memory:
            settings.update(_IN_MEMORY_SETTINGS)
        # Appending to postgresql.conf (last setting wins) keeps paths out of pg_ctl's -o
        # string, which is re-parsed by a shell.
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# conflictdb test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _reset_data_dir(self) -> None:
        # A failed initdb may leave files behind, and initdb refuses a non-empty directory.
        data_dir = self.data_dir
        assert data_dir is not None
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(mode=0o700)
        if self._as_root():
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            os.chown(data_dir, user.pw_uid, user.pw_gid)

    def _start_server(self) -> None:
        # A port picked by binding to 0 can be taken before postgres binds it; retry then.
        attempts = 1 if self._requested_port is not None else 3
        for attempt in range(attempts):
            self.port = self._requested_port or _free_port()
            result = self._run(
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                f"-p {self.port}",
                timeout=90,
            )
            if result.returncode == 0:
                return
            assert self.log_file is not None
            log = _tail(self.log_file)
            self._stop_server()
            if "could not bind" in log and attempt + 1 < attempts:
                continue
            raise RuntimeError(
                f"pg_ctl start failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n--- {self.log_file} (tail) ---\n{log}"
            )

    def _stop_server(self) -> None:
        if self.data_dir is None or not self.data_dir.exists():
            return
        # Read before stopping: the pid file is gone once pg_ctl returns.
        pid = self._postmaster_pid()
        with contextlib.suppress(RuntimeError):
            self._run(
                "pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self.data_dir), timeout=30
            )
        if pid is None:
            return
        # pg_ctl -w returns once the pid file is removed, a moment before the postmaster exits,
        # and it gives up on timeouts; wait, then escalate. SIGQUIT is the immediate-shutdown
        # signal and takes the backends down too, whereas SIGKILL would orphan them.
        for sig in (None, signal.SIGQUIT, signal.SIGKILL):
            if sig is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.02)
            if not _alive(pid):
                return

    def _postmaster_pid(self) -> int | None:
        data_dir = self.data_dir
        if data_dir is None:
            return None
        try:
            first_line = (data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first_line)
        except (OSError, ValueError):
            return None
        return pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # The postmaster is reparented to init once pg_ctl exits, and init may reap it late; a
    # zombie has already exited.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


@atexit.register
def _stop_live_clusters() -> None:
    for cluster in list(_live_clusters):
        with contextlib.suppress(Exception):
            cluster.stop()


class PostgresReplica(PostgresCluster):
    """A streaming replica of a running ``PostgresCluster``: a base backup of it taken with
    ``pg_basebackup -R`` (which writes the standby's connection settings and its
    standby.signal) into a new data directory, started on a port of its own as the same
    unprivileged user. It is a hot standby: it answers reads while replaying the primary's WAL.
    """

    def __init__(self, primary: PostgresCluster) -> None:
        super().__init__(primary.bin_dir, in_memory=primary.in_memory)
        self.primary = primary

    def _initdb(self) -> None:
        result = self._run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary._port()),
            "-U",
            "postgres",
            "-D",
            str(self.data_dir),
            "-R",  # standby.signal and primary_conninfo: start as its streaming replica
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
            timeout=180,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pg_basebackup failed:\n{result.stdout}{result.stderr}")
        assert self.data_dir is not None
        # The copied postgresql.conf names the primary's socket directory: ours instead.
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# conflictdb test replica\n")
            conf.write(f"unix_socket_directories = '{self.socket_dir}'\n")
            conf.write("hot_standby = on\n")

    def halt(self) -> None:
        """Stop the server (immediately, as a crash would), keeping its data to start again."""
        self._stop_server()
        self._running = False

    def resume(self) -> None:
        """Start it again after ``halt``, on the same port; it catches up from the primary."""
        requested, self._requested_port = self._requested_port, self._port()
        try:
            self._start_server()
        finally:
            self._requested_port = requested
        self._running = True

    def _replay(self, sql_text: str) -> Any:
        with psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=10) as conn:
            row = conn.execute(sql_text).fetchone()
            return row[0] if row else None

    def pause_replay(self) -> None:
        """Stop applying the primary's WAL (it still arrives): the replica falls behind."""
        self._replay("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self._replay("SELECT pg_wal_replay_resume()")

    def wait_caught_up(self, timeout: float = 60.0) -> None:
        """Until the replica has replayed everything the primary had written when called."""
        with psycopg.connect(self.primary.conninfo(), autocommit=True, connect_timeout=10) as p:
            row = p.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        target = row[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(psycopg.OperationalError):
                done = self._replay(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
                if done:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"the replica did not replay up to {target} within {timeout}s")

    def set_apply_delay(self, milliseconds: int) -> None:
        """Apply each commit of the primary only this long after it was made
        (``recovery_min_apply_delay``): a replica that lags on purpose."""
        with psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"ALTER SYSTEM SET recovery_min_apply_delay = '{int(milliseconds)}ms'")
            conn.execute("SELECT pg_reload_conf()")
