"""Drive the EPICS reference client (libca through pyepics) against a ca-sim IOC and print one JSON
object with what it saw. Usage: pyepics_check.py PREFIX PART, PART one of read, write, monitor, missing,
restart.
The CA environment (EPICS_CA_ADDR_LIST, ports) comes from the caller."""
import json
import sys
import time

import epics

P = sys.argv[1]
PART = sys.argv[2]
TIMEOUT = 3.0
out = {}


def plain(value):
    """JSON-friendly copy of what pyepics returns (numpy arrays, bytes)."""
    if value is None:
        return None
    if hasattr(value, 'tolist'):
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode('latin-1')
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def attempt(key, fn):
    try:
        out[key] = plain(fn())
    except Exception as exc:  # recorded, the test decides
        out[key] = {'error': type(exc).__name__, 'message': str(exc)}


def read():
    for name in ['double', 'float', 'long', 'short', 'char', 'enum', 'string', 'readonly',
                 'waveform', 'longarray', 'stringarray', 'chararray']:
        attempt('get_' + name, lambda name=name: epics.caget(P + name, timeout=TIMEOUT))
    attempt('get_enum_as_string', lambda: epics.caget(P + 'enum', as_string=True, timeout=TIMEOUT))
    attempt('get_double_as_string', lambda: epics.caget(P + 'double', as_string=True, timeout=TIMEOUT))
    # Metadata: DBR_CTRL_* through PV.get_ctrlvars, native type/count, access rights.
    for name in ['double', 'long', 'float', 'short', 'char', 'enum', 'waveform', 'readonly']:
        pv = epics.PV(P + name)
        pv.wait_for_connection(timeout=TIMEOUT)
        ctrl = pv.get_ctrlvars(timeout=TIMEOUT) or {}
        out['ctrl_' + name] = {k: plain(v) for k, v in ctrl.items()}
        out['type_' + name] = pv.type
        out['count_' + name] = pv.count
        out['write_access_' + name] = pv.write_access
    # Time family: alarm state and timestamp.
    pv_time = epics.PV(P + 'double', form='time')
    pv_time.wait_for_connection(timeout=TIMEOUT)
    pv_time.get(timeout=TIMEOUT)
    out['time_double'] = {'timestamp': pv_time.timestamp, 'severity': pv_time.severity, 'status': pv_time.status}
    # The large waveform needs the extended header (count >= 0xFFFF).
    big = epics.caget(P + 'bigwave', timeout=TIMEOUT)
    out['bigwave_len'] = None if big is None else len(big)
    out['bigwave_tail'] = None if big is None else plain(big)[-3:]


def write():
    puts = {
        'double': 12.25,
        'float': 2.5,
        'long': 123,
        'short': -321,
        'char': 66,
        'enum': 1,
        'string': 'written by libca',
        'waveform': [float(i) / 4 for i in range(1000)],
        'longarray': list(range(100, 116)),
    }
    for name, value in puts.items():
        attempt('put_' + name, lambda name=name, value=value: epics.caput(P + name, value, wait=True, timeout=TIMEOUT))
        attempt('after_put_' + name, lambda name=name: epics.caget(P + name, timeout=TIMEOUT, use_monitor=False))
    attempt('put_enum_string', lambda: epics.caput(P + 'enum', 'Fault', wait=True, timeout=TIMEOUT))
    attempt('after_put_enum_string', lambda: epics.caget(P + 'enum', as_string=True, timeout=TIMEOUT, use_monitor=False))
    attempt('put_double_string', lambda: epics.caput(P + 'double', '33.5', wait=True, timeout=TIMEOUT))
    attempt('after_put_double_string', lambda: epics.caget(P + 'double', timeout=TIMEOUT, use_monitor=False))
    # An alarm from the limits: above HIHI.
    attempt('put_double_alarm', lambda: epics.caput(P + 'double', 95.0, wait=True, timeout=TIMEOUT))
    pv_alarm = epics.PV(P + 'double', form='time')
    pv_alarm.wait_for_connection(timeout=TIMEOUT)
    pv_alarm.get(timeout=TIMEOUT, use_monitor=False)
    out['alarm_double'] = {'severity': pv_alarm.severity, 'status': pv_alarm.status}
    # A write to a read-only PV: libca refuses it from the access rights.
    attempt('put_readonly', lambda: epics.caput(P + 'readonly', 1.0, wait=True, timeout=TIMEOUT))
    attempt('after_put_readonly', lambda: epics.caget(P + 'readonly', timeout=TIMEOUT, use_monitor=False))


def monitor():
    # camonitor: the counter ticks every 100 ms.
    seen = []
    counter = epics.PV(P + 'counter', callback=lambda value=None, **kw: seen.append(plain(value)))
    counter.wait_for_connection(timeout=TIMEOUT)
    time.sleep(0.6)
    counter.clear_callbacks()
    out['monitor_counter'] = list(seen)
    # A monitor sees a write, with the new alarm state.
    updates = []
    mon = epics.PV(P + 'monitored', form='time',
                   callback=lambda value=None, severity=None, **kw: updates.append([plain(value), severity]))
    mon.wait_for_connection(timeout=TIMEOUT)
    deadline = time.time() + TIMEOUT
    while not updates and time.time() < deadline:
        time.sleep(0.02)
    epics.caput(P + 'monitored', 950, wait=True, timeout=TIMEOUT)
    deadline = time.time() + TIMEOUT
    while len(updates) < 2 and time.time() < deadline:
        time.sleep(0.02)
    out['monitor_short'] = updates


def missing():
    pv = epics.PV(P + 'does-not-exist', connection_timeout=1.0)
    out['missing_connected'] = pv.wait_for_connection(timeout=1.0)
    out['missing_get'] = plain(epics.caget(P + 'also-missing', timeout=0.5))


def restart():
    """Connect, tell the test (READY on stdout), then follow the IOC through its restart."""
    events = []
    pv = epics.PV(P + 'counter', connection_callback=lambda conn=None, **kw: events.append(bool(conn)))
    out['connected'] = pv.wait_for_connection(timeout=TIMEOUT)
    print('READY')
    sys.stdout.flush()
    deadline = time.time() + 10
    while events.count(True) < 2 and time.time() < deadline:
        time.sleep(0.02)
    out['events'] = events
    out['value_after'] = plain(pv.get(timeout=TIMEOUT, use_monitor=False))


{'read': read, 'write': write, 'monitor': monitor, 'missing': missing, 'restart': restart}[PART]()
print(json.dumps(out))
sys.stdout.flush()
epics.ca.finalize_libca()
