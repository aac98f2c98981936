# -*- coding: utf-8 -*-
# vim: set syntax=yaml ts=2 sw=2 sts=2 et :
#
# qvm-remote.vm: the qube side of qvm-remote.
#
# - installs the client (package qvm-remote).  Apply this state to the
#   template of a template-based qube: a package installed in the qube
#   itself is gone at its next restart.
# - makes the qube's key ("qvm-remote key gen", as the qube's user) when it
#   has none.  Never in a template: the home directory of a template is
#   copied into every qube later made from it, which would then share one
#   key (dom0 refuses a key that another qube already holds).
#
# The user is qvm_remote:user from the pillar, "user" by default.  dom0
# then pulls the key: state qvm-remote.dom0, or by hand
#   qvm-remote-dom0 authorize --from-vm QUBE
#
# Apply: qubesctl --skip-dom0 --targets=TEMPLATE,QUBE state.sls qvm-remote.vm

{%- set user = salt['pillar.get']('qvm_remote:user', 'user') %}
{%- if user is not string or not user.replace('_', '').replace('-', '').isalnum() %}
{{- raise('qvm_remote:user: ' ~ (user | string) ~ ' is not a user name') }}
{%- endif %}

qvm-remote-client-package:
  pkg.installed:
    - name: qvm-remote

qvm-remote-key:
  cmd.run:
    - name: qvm-remote key gen
    - runas: {{ user }}
    - unless: >-
        test -e ~{{ user }}/.qvm-remote/auth.key ||
        test "$(qubesdb-read /type 2>/dev/null)" = TemplateVM
    - require:
      - pkg: qvm-remote-client-package
