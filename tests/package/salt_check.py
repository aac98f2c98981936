#!/usr/bin/python3
"""salt_check.py SALT_DIR DAEMON - check the Salt formula without Salt.

Debian 12 has no Salt package, so this renders every state (*.sls) and top
file (*.top) with Jinja the way Salt does, with the example pillar and a
few variations, parses the result as YAML, and checks its shape: state ids
mapping to one module.function with a list of arguments, requisites that
name states of the same file, tops naming states that exist.  Pillars
that must be refused are.  The remote.conf that qvm-remote.dom0 writes
from each pillar is then read by the real daemon (DAEMON -c FILE keys).

Prints "ok - ..." per check and exits 1 when one failed.
"""
import copy
import os
import subprocess
import sys
import tempfile

import jinja2
import yaml

failures = 0


def report(ok, what, detail=""):
    global failures
    print(("ok - " if ok else "not ok - ") + what)
    if not ok:
        failures += 1
        for line in str(detail).splitlines():
            print("#   " + line)


class SaltRaise(Exception):
    pass


def salt_raise(msg):
    raise SaltRaise(msg)


def pillar_get(pillar):
    def get(key, default=""):
        node = pillar
        for part in key.split(":"):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node
    return get


def render(path, pillar, minion="dom0"):
    """The text Salt's jinja renderer would give for path."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    with open(path, encoding="utf-8") as f:
        tmpl = env.from_string(f.read())
    salt = {"pillar.get": pillar_get(pillar),
            "grains.get": lambda k, d="": {"id": minion}.get(k, d)}
    return tmpl.render(salt=salt, pillar=pillar, grains={"id": minion},
                       opts={}, saltenv="base", sls="",
                       **{"raise": salt_raise})


REQUISITES = ("require", "watch", "onchanges", "onfail", "prereq",
              "require_in", "watch_in", "onchanges_in", "use")


def check_states(data, where):
    """Problems of a rendered state file, as a list of strings."""
    problems = []
    if not isinstance(data, dict) or not data:
        return ["%s: not a mapping of state ids" % where]
    known = {}
    for sid, body in data.items():
        if sid in ("include", "extend"):
            continue
        if not isinstance(body, dict) or len(body) != 1:
            problems.append("%s: %s: expected one module.function" % (where, sid))
            continue
        (fun, args), = body.items()
        mod = fun.split(".")[0]
        if "." not in fun or not isinstance(args, list):
            problems.append("%s: %s: %s needs a list of arguments" % (where, sid, fun))
            continue
        known.setdefault(mod, set()).add(sid)
        for a in args:
            if not (isinstance(a, str) or (isinstance(a, dict) and len(a) == 1)):
                problems.append("%s: %s: bad argument %r" % (where, sid, a))
        names = [a for a in args if isinstance(a, dict) and "name" in a]
        if mod == "cmd" and not names:
            problems.append("%s: %s: cmd state without a name" % (where, sid))
    for sid, body in data.items():
        if not isinstance(body, dict) or len(body) != 1:
            continue
        (fun, args), = body.items()
        for a in args if isinstance(args, list) else []:
            if not isinstance(a, dict):
                continue
            (k, v), = a.items()
            if k not in REQUISITES:
                continue
            for req in v if isinstance(v, list) else [v]:
                if not isinstance(req, dict) or len(req) != 1:
                    problems.append("%s: %s: bad %s entry %r" % (where, sid, k, req))
                    continue
                (rmod, rid), = req.items()
                if rid not in known.get(rmod, set()):
                    problems.append("%s: %s: %s names %s: %s, which is not in the file"
                                    % (where, sid, k, rmod, rid))
    return problems


def state_args(data, sid):
    (fun, args), = data[sid].items()
    out = {}
    for a in args:
        if isinstance(a, dict):
            out.update(a)
    return fun, out


def daemon_accepts(daemon, conf_text):
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "remote.conf")
        keys = os.path.join(d, "keys")
        os.mkdir(keys, 0o700)
        with open(conf, "w", encoding="utf-8") as f:
            f.write(conf_text)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("QVM_REMOTE_")}
        env.update(QVM_REMOTE_KEYS_DIR=keys,
                   QVM_REMOTE_LOG=os.path.join(d, "log"),
                   QVM_REMOTE_STATE_DIR=os.path.join(d, "state"),
                   QVM_REMOTE_RUNTIME_DIR=os.path.join(d, "run"))
        p = subprocess.run([daemon, "-c", conf, "keys"], env=env,
                           capture_output=True, text=True, timeout=30)
        return p.returncode == 0, p.stdout + p.stderr


def main():
    if len(sys.argv) != 3:
        print("usage: salt_check.py SALT_DIR DAEMON", file=sys.stderr)
        return 2
    top, daemon = sys.argv[1], sys.argv[2]
    example_path = os.path.join(top, "pillar", "qvm-remote.sls")
    example = yaml.safe_load(render(example_path, {}))
    report(isinstance(example, dict) and "qvm_remote" in example,
           "pillar example renders to a qvm_remote mapping", example)

    sls_files, top_files = [], []
    for root, _dirs, files in os.walk(top):
        for name in sorted(files):
            p = os.path.join(root, name)
            if name.endswith(".sls"):
                sls_files.append(p)
            elif name.endswith(".top"):
                top_files.append(p)

    # Every file renders and parses with the example pillar.
    rendered = {}
    for p in sorted(sls_files + top_files):
        rel = os.path.relpath(p, top)
        try:
            text = render(p, example)
            data = yaml.safe_load(text)
            rendered[rel] = data
            report(True, "%s renders and parses" % rel)
        except Exception as e:  # noqa: BLE001 - any failure is the report
            report(False, "%s renders and parses" % rel, "%s: %s" % (type(e).__name__, e))

    for rel, data in rendered.items():
        if rel.endswith(".sls") and not rel.startswith("pillar" + os.sep):
            probs = check_states(data, rel)
            report(not probs, "%s: state ids, functions and requisites" % rel,
                   "\n".join(probs))

    # Tops name states (or pillars) that exist.
    for rel, data in rendered.items():
        if not rel.endswith(".top"):
            continue
        base = os.path.join(top, os.path.dirname(rel))
        probs = []
        if not isinstance(data, dict) or "base" not in data:
            probs.append("no base environment")
        else:
            for target, items in data["base"].items():
                if not isinstance(items, list):
                    probs.append("%s: not a list" % target)
                    continue
                for it in items:
                    if isinstance(it, dict):
                        if list(it) != ["match"]:
                            probs.append("%s: unexpected %r" % (target, it))
                        continue
                    path = os.path.join(base, *it.split(".")) + ".sls"
                    init = os.path.join(base, *it.split("."), "init.sls")
                    if not (os.path.isfile(path) or os.path.isfile(init)):
                        probs.append("%s: %s names no file" % (target, it))
        report(not probs, "%s: targets name existing files" % rel, "\n".join(probs))

    dom0 = os.path.join(top, "qvm-remote", "dom0.sls")
    vm = os.path.join(top, "qvm-remote", "vm.sls")

    # Variations that must render, and what they must hold.
    enabled = copy.deepcopy(example)
    enabled["qvm_remote"]["service"] = {"enable": True}
    enabled["qvm_remote"]["revoke"] = ["old-vm"]
    enabled["qvm_remote"]["config"].update(
        QVM_REMOTE_LEGACY_AUTH=[], QVM_REMOTE_POLL="interval",
        QVM_REMOTE_INTERVAL=5, QVM_REMOTE_LOG="/var/log/qubes/qvm-remote.log")
    cases = [("the example pillar", example), ("an empty pillar", {}),
             ("a pillar that enables the service", enabled)]
    for what, pillar in cases:
        try:
            data = yaml.safe_load(render(dom0, pillar))
        except Exception as e:  # noqa: BLE001
            report(False, "qvm-remote.dom0 with %s" % what, e)
            continue
        probs = check_states(data, "dom0.sls")
        fun, args = state_args(data, "qvm-remote-config")
        if fun != "file.managed" or args.get("mode") != "0600" or \
                args.get("name") != "/etc/qubes/remote.conf":
            probs.append("remote.conf is not file.managed 0600: %r" % args)
        ids = set(data)
        on = "qvm-remote-service-enabled" in ids
        want_on = bool(pillar.get("qvm_remote", {}).get("service", {}).get("enable"))
        if on != want_on or ("qvm-remote-service-disabled" in ids) == want_on:
            probs.append("service states do not follow service:enable=%s" % want_on)
        for s in ids:
            if s.startswith("qvm-remote-service-") and s != "qvm-remote-service-reload":
                f, a = state_args(data, s)
                if "enable" in a.get("name", "") and not want_on:
                    probs.append("%s enables the service" % s)
        for q in pillar.get("qvm_remote", {}).get("authorize", []):
            f, a = state_args(data, "qvm-remote-authorize-" + q)
            if "authorize --from-vm " + q not in a.get("name", "") or "unless" not in a:
                probs.append("authorize of %s: %r" % (q, a))
        report(not probs, "qvm-remote.dom0 with %s: config 0600, authorize, "
               "service as asked" % what, "\n".join(probs))
        ok, out = daemon_accepts(daemon, args.get("contents", ""))
        report(ok, "qvm-remote.dom0 with %s: the daemon accepts the remote.conf "
               "it writes" % what, args.get("contents", "") + "\n" + out)

    # Pillars that must stop the state before anything changes.
    bad = [
        ("a value with a quote", {"config": {"QVM_REMOTE_VMS": "a' b"}}),
        ("a value with a line break", {"config": {"QVM_REMOTE_VMS": "a\nQVM_REMOTE_TIMEOUT=1"}}),
        ("a key that is not a setting", {"config": {"PATH": "/tmp"}}),
        ("a mapping as a value", {"config": {"QVM_REMOTE_VMS": {"a": 1}}}),
        ("a bad qube name", {"authorize": ["work; reboot"]}),
        ("dom0 as a qube", {"authorize": ["dom0"]}),
        ("a qube both authorized and revoked", {"authorize": ["a"], "revoke": ["a"]}),
    ]
    for what, qr in bad:
        try:
            render(dom0, {"qvm_remote": qr})
            report(False, "qvm-remote.dom0 refuses %s" % what, "it rendered")
        except SaltRaise as e:
            report(True, "qvm-remote.dom0 refuses %s (%s)" % (what, e))

    # vm.sls: the key only outside templates and only when missing.
    try:
        data = yaml.safe_load(render(vm, {}, minion="work"))
        fun, args = state_args(data, "qvm-remote-key")
        probs = check_states(data, "vm.sls")
        if args.get("name") != "qvm-remote key gen" or args.get("runas") != "user":
            probs.append("key gen not run as user: %r" % args)
        unless = args.get("unless", "")
        if "auth.key" not in unless or "TemplateVM" not in unless:
            probs.append("unless does not skip existing keys and templates: %r" % unless)
        f2, a2 = state_args(data, "qvm-remote-client-package")
        if f2 != "pkg.installed" or a2.get("name") != "qvm-remote":
            probs.append("client package: %s %r" % (f2, a2))
        report(not probs, "qvm-remote.vm: client package, key gen as the user "
               "unless a key exists or in a template", "\n".join(probs))
    except Exception as e:  # noqa: BLE001
        report(False, "qvm-remote.vm renders", e)
    try:
        render(vm, {"qvm_remote": {"user": "x; rm -rf /"}})
        report(False, "qvm-remote.vm refuses a bad user name", "it rendered")
    except SaltRaise:
        report(True, "qvm-remote.vm refuses a bad user name")

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
