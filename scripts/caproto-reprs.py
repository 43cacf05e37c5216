#!/usr/bin/env python3
"""Print caproto's reprs of its value types, one `kind<TAB>value<TAB>repr` a line: the expected output of
ca-shark's caproto-repr.ts (CAStatusCode, AccessRights, ChannelType, AlarmStatus, AlarmSeverity).
Usage (in the caproto venv): caproto-reprs.py > packages/cli/fixtures/caproto/caproto-reprs.txt"""
from caproto import AccessRights, AlarmSeverity, AlarmStatus, ChannelType
from caproto._status import CAStatus

for s in CAStatus:
    print(f'status\t{s.value.code_with_severity}\t{s.value!r}')
for v in range(8):
    print(f'access_rights\t{v}\t{AccessRights(v)!r}')
for t in ChannelType:
    print(f'data_type\t{t.value}\t{t!r}')
for a in AlarmStatus:
    print(f'alarm_status\t{a.value}\t{a!r}')
for a in AlarmSeverity:
    print(f'alarm_severity\t{a.value}\t{a!r}')
