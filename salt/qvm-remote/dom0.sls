# -*- coding: utf-8 -*-
# vim: set syntax=yaml ts=2 sw=2 sts=2 et :
#
# qvm-remote.dom0: the dom0 side of qvm-remote, from the pillar qvm_remote
# (see salt/README.md and pillar/qvm-remote.sls).
#
# - installs qvm-remote-dom0;
# - writes /etc/qubes/remote.conf (0600) from qvm_remote:config;
# - authorizes the qubes in qvm_remote:authorize by pulling the key each
#   made with "qvm-remote key gen" (qvm-remote-dom0 authorize --from-vm),
#   once: a qube that already has a key in dom0 is left alone;
# - revokes the qubes in qvm_remote:revoke;
# - leaves the service disabled at boot unless qvm_remote:service:enable is
#   true (then enables and starts it), and reloads a running service when
#   the settings or the keys changed.
#
# Apply: qubesctl state.sls qvm-remote.dom0   (or through qvm-remote.top)

{%- set qr = salt['pillar.get']('qvm_remote', {}) %}
{%- set config = qr.get('config', {}) %}
{%- set authorize = qr.get('authorize', []) %}
{%- set revoke = qr.get('revoke', []) %}
{%- set enable = qr.get('service', {}).get('enable', False) %}
{%- set keys_dir = config.get('QVM_REMOTE_KEYS_DIR', '/etc/qubes/remote.d') %}
{%- set unit = 'qvm-remote-dom0' %}

{#- A qube name as Qubes allows it: a letter, then at most 30 letters,
    digits, '_', '.' or '-'. #}
{%- macro check_vm(vm) %}
{%- if vm is not string or vm | length == 0 or vm | length > 31
      or not vm[0].isalpha()
      or not vm.replace('_', '').replace('.', '').replace('-', '').isalnum()
      or vm == 'dom0' %}
{{- raise('qvm_remote: ' ~ (vm | string) ~ ' is not a qube name') }}
{%- endif %}
{%- endmacro %}

{#- One value of remote.conf, single-quoted (taken literally by the daemon,
    systemd and bash alike); a list becomes a space-separated string. #}
{%- macro conf_value(key, value) %}
{%- if value is string %}
{%- set v = value %}
{%- elif value is mapping or value is sameas true or value is sameas false
      or value is none %}
{{- raise('qvm_remote:config:' ~ key ~ ': expected a number, a word or a list') }}
{%- elif value is iterable %}
{%- set v = value | join(' ') %}
{%- else %}
{%- set v = value | string %}
{%- endif %}
{%- if "'" in v or '\n' in v or '\r' in v %}
{{- raise('qvm_remote:config:' ~ key ~ ': a value may not hold a quote or a line break') }}
{%- endif %}
{{- "'" ~ v ~ "'" }}
{%- endmacro %}

{%- for key in config %}
{%- if key is not string or not key.startswith('QVM_REMOTE_')
      or not key.replace('_', '').isalnum() or key != key.upper() %}
{{- raise('qvm_remote:config: ' ~ (key | string) ~ ' is not a setting; see qubes-remote.conf(5)') }}
{%- endif %}
{%- endfor %}
{%- for vm in authorize + revoke %}{{ check_vm(vm) }}{% endfor %}
{%- for vm in authorize %}
{%- if vm in revoke %}
{{- raise('qvm_remote: ' ~ vm ~ ' is both in authorize and in revoke') }}
{%- endif %}
{%- endfor %}

qvm-remote-dom0-package:
  pkg.installed:
    - name: qvm-remote-dom0

qvm-remote-config:
  file.managed:
    - name: /etc/qubes/remote.conf
    - user: root
    - group: root
    - mode: '0600'
    - contents: |
        # /etc/qubes/remote.conf: written by Salt (qvm-remote.dom0) from the
        # pillar qvm_remote:config; edit the pillar, not this file.
        # Keys, ranges and defaults: qubes-remote.conf(5).
{%- for key, value in config | dictsort %}
        {{ key }}={{ conf_value(key, value) }}
{%- endfor %}
    - require:
      - pkg: qvm-remote-dom0-package

# A setting the daemon refuses fails here, naming the line, instead of at
# the next start of the service.
qvm-remote-config-valid:
  cmd.run:
    - name: qvm-remote-dom0 keys >/dev/null
    - onchanges:
      - file: qvm-remote-config

{%- for vm in authorize %}

# Pulling the key needs the qube running; one that has a key in dom0
# already is not asked again (re-authorize by hand after "key gen --force").
qvm-remote-authorize-{{ vm }}:
  cmd.run:
    - name: qvm-start --skip-if-running {{ vm }} && qvm-remote-dom0 authorize --from-vm {{ vm }}
    - unless: test -e {{ keys_dir }}/{{ vm }}.key
    - require:
      - cmd: qvm-remote-config-valid
      - file: qvm-remote-config
{%- endfor %}

{%- for vm in revoke %}

qvm-remote-revoke-{{ vm }}:
  cmd.run:
    - name: qvm-remote-dom0 revoke {{ vm }}
    - onlyif: test -e {{ keys_dir }}/{{ vm }}.key
    - require:
      - file: qvm-remote-config
{%- endfor %}

{%- if enable %}

# The pillar asks for the service: enabled at boot and running.  Every
# authorized qube can then run any command in dom0 as root.
qvm-remote-service-enabled:
  cmd.run:
    - name: qvm-remote-dom0 enable --yes
    - unless: systemctl is-enabled --quiet {{ unit }}
    - require:
      - file: qvm-remote-config
{%- for vm in authorize %}
      - cmd: qvm-remote-authorize-{{ vm }}
{%- endfor %}

qvm-remote-service-running:
  cmd.run:
    - name: systemctl start {{ unit }}
    - unless: systemctl is-active --quiet {{ unit }}
    - require:
      - cmd: qvm-remote-service-enabled
{%- else %}

# Not enabled at boot (the default).  A service started by hand for this
# boot keeps running: "systemctl stop qvm-remote-dom0" ends it.
qvm-remote-service-disabled:
  cmd.run:
    - name: qvm-remote-dom0 disable
    - onlyif: systemctl is-enabled --quiet {{ unit }}
    - require:
      - pkg: qvm-remote-dom0-package
{%- endif %}

# New settings and keys reach a running service on reload (SIGHUP).
qvm-remote-service-reload:
  cmd.run:
    - name: systemctl reload {{ unit }}
    - onlyif: systemctl is-active --quiet {{ unit }}
    - onchanges:
      - file: qvm-remote-config
{%- for vm in authorize %}
      - cmd: qvm-remote-authorize-{{ vm }}
{%- endfor %}
{%- for vm in revoke %}
      - cmd: qvm-remote-revoke-{{ vm }}
{%- endfor %}
