import { describe, expect, it } from 'vitest';
import {
  alarmSeverityName,
  alarmStatusName,
  alignedSize,
  Command,
  commandId,
  commandName,
  dbrAlignedSize,
  dbrElementSize,
  dbrNativeType,
  dbrSize,
  DbrType,
  dbrTypeId,
  dbrTypeName,
  dbrValueOffset,
  Eca,
  ecaCode,
  ecaInfo,
  ecaName,
  ecaSeverity,
  eventMaskNames,
  EPICS_EPOCH_OFFSET,
  ipv4FromString,
  ipv4ToString,
  isObsoleteCommand,
  isValidCommand,
} from './tables.js';

// Copied from the reference's §6 table (code, name): independent of tables.ts.
const ECA_FROM_SPEC: [number, string][] = [
  [1, 'NORMAL'],
  [10, 'MAXIOC'],
  [18, 'UKNHOST'],
  [26, 'UKNSERV'],
  [34, 'SOCK'],
  [40, 'CONN'],
  [48, 'ALLOCMEM'],
  [56, 'UKNCHAN'],
  [64, 'UKNFIELD'],
  [72, 'TOLARGE'],
  [80, 'TIMEOUT'],
  [88, 'NOSUPPORT'],
  [96, 'STRTOBIG'],
  [106, 'DISCONNCHID'],
  [114, 'BADTYPE'],
  [123, 'CHIDNOTFND'],
  [131, 'CHIDRETRY'],
  [142, 'INTERNAL'],
  [144, 'DBLCLFAIL'],
  [152, 'GETFAIL'],
  [160, 'PUTFAIL'],
  [168, 'ADDFAIL'],
  [176, 'BADCOUNT'],
  [186, 'BADSTR'],
  [192, 'DISCONN'],
  [200, 'DBLCHNL'],
  [210, 'EVDISALLOW'],
  [216, 'BUILDGET'],
  [224, 'NEEDSFP'],
  [232, 'OVEVFAIL'],
  [242, 'BADMONID'],
  [248, 'NEWADDR'],
  [259, 'NEWCONN'],
  [264, 'NOCACTX'],
  [278, 'DEFUNCT'],
  [280, 'EMPTYSTR'],
  [288, 'NOREPEATER'],
  [296, 'NOCHANMSG'],
  [304, 'DLCKREST'],
  [312, 'SERVBEHIND'],
  [320, 'NOCAST'],
  [330, 'BADMASK'],
  [339, 'IODONE'],
  [347, 'IOINPROGRESS'],
  [354, 'BADSYNCGRP'],
  [362, 'PUTCBINPROG'],
  [368, 'NORDACCESS'],
  [376, 'NOWTACCESS'],
  [386, 'ANACHRONISM'],
  [392, 'NOSEARCHADDR'],
  [400, 'NOCONVERT'],
  [410, 'BADCHID'],
  [418, 'BADFUNCPTR'],
  [424, 'ISATTACHED'],
  [432, 'UNAVAILINSERV'],
  [440, 'CHANDESTROY'],
  [450, 'BADPRIORITY'],
  [458, 'NOTTHREADED'],
  [464, '16KARRAYCLIENT'],
  [472, 'CONNSEQTMO'],
  [480, 'UNRESPTMO'],
];

// Copied from the reference's §5.2 table (id, name, meta, aligned size for count 1).
const DBR_FROM_SPEC: [number, string, number, number][] = [
  [0, 'STRING', 0, 40],
  [20, 'TIME_DOUBLE', 16, 24],
  [1, 'SHORT', 0, 8],
  [21, 'GR_STRING', 4, 48],
  [2, 'FLOAT', 0, 8],
  [22, 'GR_SHORT', 24, 32],
  [3, 'ENUM', 0, 8],
  [23, 'GR_FLOAT', 40, 48],
  [4, 'CHAR', 0, 8],
  [24, 'GR_ENUM', 422, 424],
  [5, 'LONG', 0, 8],
  [25, 'GR_CHAR', 19, 24],
  [6, 'DOUBLE', 0, 8],
  [26, 'GR_LONG', 36, 40],
  [7, 'STS_STRING', 4, 48],
  [27, 'GR_DOUBLE', 64, 72],
  [8, 'STS_SHORT', 4, 8],
  [28, 'CTRL_STRING', 4, 48],
  [9, 'STS_FLOAT', 4, 8],
  [29, 'CTRL_SHORT', 28, 32],
  [10, 'STS_ENUM', 4, 8],
  [30, 'CTRL_FLOAT', 48, 56],
  [11, 'STS_CHAR', 5, 8],
  [31, 'CTRL_ENUM', 422, 424],
  [12, 'STS_LONG', 4, 8],
  [32, 'CTRL_CHAR', 21, 24],
  [13, 'STS_DOUBLE', 8, 16],
  [33, 'CTRL_LONG', 44, 48],
  [14, 'TIME_STRING', 12, 56],
  [34, 'CTRL_DOUBLE', 80, 88],
  [15, 'TIME_SHORT', 14, 16],
  [35, 'PUT_ACKT', 0, 8],
  [16, 'TIME_FLOAT', 12, 16],
  [36, 'PUT_ACKS', 0, 8],
  [17, 'TIME_ENUM', 14, 16],
  [37, 'STSACK_STRING', 8, 48],
  [18, 'TIME_CHAR', 15, 16],
  [38, 'CLASS_NAME', 0, 40],
  [19, 'TIME_LONG', 12, 16],
];

describe('commands', () => {
  it('maps names and codes both ways', () => {
    expect(Command.VERSION).toBe(0);
    expect(Command.SEARCH).toBe(6);
    expect(Command.RSRV_IS_UP).toBe(13);
    expect(Command.SERVER_DISCONN).toBe(27);
    for (let id = 0; id <= 27; id++) expect(commandId(commandName(id)!)).toBe(id);
    expect(commandName(28)).toBeUndefined();
    expect(commandId('CA_PROTO_CREATE_CHAN')).toBe(18);
    expect(commandId('toString')).toBeUndefined();
  });
  it('knows the obsolete codes', () => {
    expect([...Array(30).keys()].filter(isObsoleteCommand)).toEqual([5, 7, 16, 25]);
    expect(isValidCommand(27)).toBe(true);
    expect(isValidCommand(28)).toBe(false);
    expect(isValidCommand(16)).toBe(false);
  });
});

describe('DBR types', () => {
  it.each(DBR_FROM_SPEC)('%i %s: meta %i, aligned %i', (id, name, meta, aligned) => {
    expect(dbrTypeName(id)).toBe(name);
    expect(dbrTypeId(name)).toBe(id);
    expect(dbrTypeId(`DBR_${name}`)).toBe(id);
    expect(dbrValueOffset(id)).toBe(meta);
    expect(dbrAlignedSize(id, 1)).toBe(aligned);
  });
  it('derives natives, sizes and the name object', () => {
    expect(DbrType.TIME_DOUBLE).toBe(20);
    expect(DbrType.CLASS_NAME).toBe(38);
    expect(dbrNativeType(34)).toBe(6);
    expect(dbrNativeType(24)).toBe(3);
    expect(dbrNativeType(35)).toBe(35);
    expect(dbrNativeType(39)).toBeUndefined();
    expect(dbrElementSize(0)).toBe(40);
    expect(dbrElementSize(32)).toBe(1);
    expect(dbrElementSize(36)).toBe(2);
    expect(dbrSize(20, 3)).toBe(16 + 24);
    expect(dbrSize(20, 0)).toBe(16);
    expect(dbrSize(18, 5)).toBe(20);
    expect(dbrAlignedSize(18, 5)).toBe(24);
    expect(dbrSize(99, 1)).toBeUndefined();
    expect(dbrTypeName(39)).toBeUndefined();
    expect(alignedSize(0)).toBe(0);
    expect(alignedSize(1)).toBe(8);
    expect(alignedSize(16)).toBe(16);
  });
});

describe('ECA codes', () => {
  it.each(ECA_FROM_SPEC)('%i is ECA_%s', (code, name) => {
    expect(ecaName(code)).toBe(`ECA_${name}`);
    expect(ecaCode(name)).toBe(code);
    expect(Eca[`ECA_${name}`]).toBe(code);
    expect(ecaInfo(code)!.msgNo).toBe(code >> 3);
  });
  it('has severities and handles unknown codes', () => {
    expect(ecaInfo(142)!.severityName).toBe('FATAL');
    expect(ecaInfo(1)!.success).toBe(true);
    expect(ecaInfo(152)!.success).toBe(false);
    expect(ecaInfo(152)!.defunct).toBe(false);
    expect(ecaInfo(10)!.defunct).toBe(true);
    expect(ecaName(7)).toBe('ECA_UNKNOWN(7)');
    expect(ecaSeverity(7)).toBe('7');
    expect(ecaSeverity(368)).toBe('WARNING');
    expect(Object.keys(Eca)).toHaveLength(61);
  });
});

describe('alarms, masks, addresses', () => {
  it('names alarm status and severity, raw otherwise', () => {
    expect(alarmSeverityName(2)).toBe('MAJOR');
    expect(alarmSeverityName(7)).toBe('7');
    expect(alarmStatusName(3)).toBe('HIHI');
    expect(alarmStatusName(21)).toBe('WRITE_ACCESS');
    expect(alarmStatusName(22)).toBe('22');
  });
  it('names event mask bits', () => {
    expect(eventMaskNames(5)).toEqual(['DBE_VALUE', 'DBE_ALARM']);
    expect(eventMaskNames(0x1f)).toEqual(['DBE_VALUE', 'DBE_LOG', 'DBE_ALARM', 'DBE_PROPERTY', '0x10']);
  });
  it('converts IPv4 addresses', () => {
    expect(ipv4ToString(0x0a00010b)).toBe('10.0.1.11');
    expect(ipv4ToString(0xffffffff)).toBe('255.255.255.255');
    expect(ipv4FromString('10.0.1.11')).toBe(0x0a00010b);
    expect(() => ipv4FromString('10.0.1')).toThrow();
    expect(() => ipv4FromString('10.0.1.256')).toThrow();
    expect(EPICS_EPOCH_OFFSET).toBe(Date.UTC(1990, 0, 1) / 1000);
  });
});
