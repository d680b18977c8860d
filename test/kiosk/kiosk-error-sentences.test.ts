import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../shared/errors.js';
import { sayError, strings } from '../../renderer/kiosk/i18n.js';
import { DEVELOPER_TEXT, englishPhrase } from '../support/kiosk-screen.js';

/**
 * Issue 16: the kiosk screen says every bridge error from its code, in the screen's language, and never the error's
 * message. The table's completeness (a sentence for every ErrorCode) is the compiler's job (`satisfies
 * Record<ErrorCode, string>` in renderer/kiosk/i18n.ts); this checks what the compiler cannot: the sentences.
 */

const en = strings('en');
const zh = strings('zh-CN');
const codes = Object.keys(en.errors) as ErrorCode[];
const MESSAGE = 'connect ECONNREFUSED 10.1.2.3:5432 for user kiosk_door_1 (see the log)';
const at = (iso: string) => `<${iso.slice(11, 16)}>`;

describe('error sentences of the kiosk screen', () => {
  it('both languages have the same codes, each a sentence of its own words', () => {
    expect(Object.keys(zh.errors).sort()).toEqual([...codes].sort());
    expect(codes).toContain('EMPLOYEE_NOT_SERVED');
    expect(codes).toContain('FULL_NAME_REQUIRED');
    for (const code of codes) {
      for (const t of [en, zh]) {
        const sentence = t.errors[code];
        expect(sentence, code).toMatch(/[.。]$/);
        expect(sentence, code).not.toContain(code);
        expect(sentence, code).not.toMatch(DEVELOPER_TEXT);
      }
      expect(englishPhrase(zh.errors[code]), `English in the Chinese sentence for ${code}`).toBeNull();
    }
  });

  it('says the code\'s sentence, never the message, whatever the message holds', () => {
    for (const code of codes) {
      for (const t of [en, zh]) {
        const said = sayError(t, { code, message: MESSAGE } as { code: string }, at);
        expect(said, code).toBe(t.errors[code]);
        expect(said).not.toContain('ECONNREFUSED');
      }
    }
  });

  it('says the numbers beside a code: tries left, and until when', () => {
    expect(sayError(zh, { code: 'ADMIN_PIN_WRONG', attemptsLeft: 3 }, at)).toBe('管理密码错误，还可尝试 3 次。');
    expect(sayError(en, { code: 'ADMIN_PIN_WRONG', attemptsLeft: 1 }, at)).toBe('Wrong admin PIN. 1 try left.');
    expect(sayError(zh, { code: 'ADMIN_LOCKED', until: '2026-03-01T09:05:00.000Z' }, at)).toBe('错误次数过多，管理模式已锁定至 <09:05>。');
    // A lock time that is no time: the lock, without a time (never "Invalid Date").
    expect(sayError(zh, { code: 'ADMIN_LOCKED', until: 'soon' }, at)).toBe(zh.errorWith.adminLocked);
    // Without the numbers they are other situations: an admin session that ended, a PIN set (or not) meanwhile.
    expect(sayError(zh, { code: 'ADMIN_LOCKED' }, at)).toBe('管理模式已结束。请重新输入管理密码。');
    expect(sayError(en, { code: 'ADMIN_PIN_WRONG' }, at)).toBe('Wrong admin PIN.');
  });

  it('a code this screen does not know: a plain sentence in the screen\'s language, the code only as a reference', () => {
    expect(sayError(zh, { code: 'SOMETHING_NEWER' }, at)).toBe('操作未成功。请告知主管。（SOMETHING_NEWER）');
    expect(sayError(en, { code: 'SOMETHING_NEWER' }, at)).toBe('That did not work. Please tell your supervisor. (SOMETHING_NEWER)');
    // Something that is not a code (a server putting text where the code goes) is not shown at all.
    expect(sayError(zh, { code: MESSAGE }, at)).toBe('操作未成功。请告知主管。');
    expect(sayError(zh, { code: 'toString' }, at)).toBe('操作未成功。请告知主管。');
  });

  it('admin diagnostics in Chinese: no English words, the clock offset in words', () => {
    const d = zh.admin.diag;
    for (const line of [d.roster(12, 40), d.waiting(3), d.clock(null), d.clock(5_400_000), d.clock(-7_000), d.clock(500), d.frames(10, '2.5'), d.timeToPunch(812)]) {
      expect(englishPhrase(line), line).toBeNull();
    }
    expect(d.clock(5_400_000)).toBe('时钟：比中心服务器快 1 小时 30 分钟（5400000 毫秒）');
    expect(d.clock(-7_000)).toBe('时钟：比中心服务器慢 7 秒（-7000 毫秒）');
    expect(en.admin.diag.clock(5_400_000)).toBe('clock 1 h 30 min ahead (5400000 ms)');
  });
});
