"""The crash test: concurrent writers against a real server killed with SIGKILL, then an audit.

``python -m tests.system.crash --help`` runs it by hand; tests/system/crash/test_crash.py runs a short form,
including negative controls (tests/system/crash/faulty_app.py) that prove it catches broken servers.
"""
