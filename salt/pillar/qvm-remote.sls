# -*- coding: utf-8 -*-
# vim: set syntax=yaml ts=2 sw=2 sts=2 et :
#
# Example pillar for the qvm-remote formula.  Copy it to
# /srv/user_pillar/qvm-remote.sls, with pillar/qvm-remote.top, and adjust.
# Only dom0 needs it (pillar/qvm-remote.top gives it to dom0 alone), so the
# qubes do not learn which others are authorized.

qvm_remote:
  # Qubes whose key dom0 pulls and stores: each can then run any command in
  # dom0 as root.  Each must have made its key first (state qvm-remote.vm,
  # or "qvm-remote key gen" in it) and is started if halted.
  authorize:
    - work

  # Qubes whose key dom0 removes.
  revoke: []

  # The dom0 service.  false (the default): installed and not enabled at
  # boot; start it for one boot with "systemctl start qvm-remote-dom0".
  # true: enabled at boot and started.
  service:
    enable: false

  # /etc/qubes/remote.conf, key by key (qubes-remote.conf(5)); a key left
  # out keeps its default.  A list becomes a space-separated value.
  config:
    QVM_REMOTE_VMS:
      - work
    QVM_REMOTE_TIMEOUT: 300
    QVM_REMOTE_MAX_PER_VM: 2

  # The qubes' user, for state qvm-remote.vm (the default is "user").
  # user: user
