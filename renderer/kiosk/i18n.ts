import type { QualityIssue } from '../../shared/face/quality.js';

/** Every string the screen shows, in English and Simplified Chinese; the kiosk picks by the browser's language. */
const en = {
  lookAtCamera: 'Look at the camera to clock in or out',
  clockedIn: 'Clocked IN',
  clockedOut: 'Clocked OUT',
  already: (dir: string, time: string) => `Already clocked ${dir} at ${time}`,
  notRecognised: 'Not recognised',
  tryAgain: 'Try again',
  usePin: 'Use my PIN',
  holdStill: 'Hold still…',
  notSure: 'Not sure who you are: look straight at the camera',
  offline: (n: number) => `Offline · ${n} waiting`,
  waiting: (n: number) => `${n} waiting to upload`,
  nobodyEnrolled: 'Nobody is enrolled yet',
  nobodyEnrolledHelp: 'An administrator enrols people in admin mode, or imports a roster on the central database.',
  openAdmin: 'Admin mode',
  employeeNo: 'Employee number',
  pin: 'PIN',
  punch: 'Clock in/out',
  cancel: 'Cancel',
  wrongPin: (left: number) => (left === 1 ? 'Wrong PIN or number. 1 try left.' : `Wrong PIN or number. ${left} tries left.`),
  lockedUntil: (time: string) => `Too many wrong tries. Locked until ${time}.`,
  noCamera: 'No camera',
  noCameraHelp: 'Connect a camera and allow this page to use it. You can still clock in with your PIN.',
  modelsMissing: 'The face models could not be loaded',
  modelsMissingHelp: 'Reinstall the kiosk app. You can still clock in with your PIN.',
  queued: 'Saved on this kiosk; it will be sent when the network is back',
  issues: {
    NO_FACE: 'Look at the camera',
    MULTIPLE_FACES: 'One person at a time, please',
    FACE_TOO_SMALL: 'Move closer',
    LOW_SCORE: 'Look at the camera',
    HEAD_TURNED: 'Face the camera',
    HEAD_PITCHED: 'Face the camera',
    HEAD_TILTED: 'Hold your head straight',
    TOO_DARK: 'Too dark: find more light',
    TOO_BRIGHT: 'Too bright: step out of the glare',
    BLURRED: 'Hold still',
  } satisfies Record<QualityIssue, string>,
  turnHead: (side: string) => `Turn your head to the ${side}`,
  stillHere: (dir: string, time: string) => `You are clocked ${dir} (${time}). Next person, please.`,
  workedToday: (minutes: number) => `Worked today: ${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`,
  confirmTitle: (dir: string) => `Clock ${dir}?`,
  confirmDetail: (lastDir: string, minutes: number) =>
    minutes < 1 ? `You clocked ${lastDir} less than a minute ago.` : minutes === 1 ? `You clocked ${lastDir} 1 minute ago.` : `You clocked ${lastDir} ${minutes} minutes ago.`,
  confirmYes: (dir: string) => `Yes, clock ${dir}`,
  confirmNo: 'No, cancel',
  notPunched: 'Nothing was recorded',
  notYou: 'Not you? Use my PIN',
  punchedMeanwhile: (name: string, dir: string, time: string) => `${name}: clocked ${dir} at ${time}`,
  typeEmployeeNo: 'Type your employee number',
  typePin: 'Type your PIN: 4 to 8 digits',
  keypadDelete: 'Delete',
  keypadClear: 'Clear',
  keypadLetters: 'ABC',
  keypadDigits: '123',
  pinTitle: 'Clock in with your PIN',
  language: '中文',
  errors: {
    STORAGE_FULL: 'Your punch was NOT recorded: this kiosk cannot save. Please use another kiosk and tell your supervisor.',
    CENTRAL_REQUIRED: 'This needs the central server, which cannot be reached now. Try again later.',
    CENTRAL_UNREACHABLE: 'The central server cannot be reached. Check the network, then try again.',
    CENTRAL_AUTH_FAILED: 'The central server refused this kiosk. Ask IT to check its registration.',
    CENTRAL_PERMISSION_DENIED: 'The central server refused this kiosk. Ask IT to check its registration.',
    KIOSK_REFUSED: 'The central server refused this. Ask IT.',
    DUPLICATE_FACE: 'Refused: this face is already enrolled for someone else.',
    ADMIN_LOCKED: (time: string) => `Too many wrong tries. Admin mode is locked until ${time}.`,
    ADMIN_PIN_WRONG: (left: number) => (left === 1 ? 'Wrong admin PIN. 1 try left.' : `Wrong admin PIN. ${left} tries left.`),
    ADMIN_PIN_SET: 'An admin PIN is already set.',
    generic: (code: string) => `That did not work (${code}). Please tell your supervisor.`,
  },
  left: 'left',
  right: 'right',
  in: 'IN',
  out: 'OUT',
  admin: {
    title: 'Admin mode',
    setPin: 'Choose an admin PIN (4 to 8 digits)',
    enterPin: 'Admin PIN',
    unlock: 'Open admin mode',
    close: 'Close admin mode',
    syncNow: 'Sync now',
    synced: (e: number, t: number) => `Synced: ${e} people, ${t} face templates`,
    enrol: 'Enrol from the camera',
    enrolNo: 'Employee number',
    enrolName: 'Full name (for someone new)',
    enrolStart: 'Take photos',
    cameraStarting: 'Starting the camera…',
    enrolNeedsCentral: 'Enrolment needs the central database, which cannot be reached now',
    enrolDone: (name: string, n: number) => `${name}: ${n} face templates added`,
    enrolDuplicate: (name: string) => `Refused: this face is already enrolled as ${name}`,
    enrolFrames: (n: number, of: number) => `Good frames: ${n} of ${of}`,
    mode: 'Punch direction',
    modeAuto: 'Automatic (in, then out)',
    modeIn: 'Always IN',
    modeOut: 'Always OUT',
    threshold: 'Match threshold',
    central: 'Central server (host:port)',
    save: 'Save settings',
    saved: 'Saved',
    diagnostics: 'Diagnostics',
    pinFormat: 'The admin PIN is 4 to 8 digits',
    thresholdRange: 'The match threshold is a number from 0.20 to 1.00',
    enrolNumberMissing: 'Type the employee number first',
    enrolNobody: 'Nobody was in view long enough. Stand in front of the camera and try again.',
    online: 'Online',
    offline: 'Offline',
    lastSync: (when: string) => `Last sync ${when}`,
    never: 'never',
    syncProblem: 'The last sync failed: the central server could not be reached or refused this kiosk',
  },
};

type Strings = typeof en;

const zh: Strings = {
  lookAtCamera: '请看摄像头打卡',
  clockedIn: '上班打卡成功',
  clockedOut: '下班打卡成功',
  already: (dir, time) => `已于 ${time} 打卡（${dir}）`,
  notRecognised: '未能识别',
  tryAgain: '重试',
  usePin: '使用密码打卡',
  holdStill: '请保持不动…',
  notSure: '无法确定身份：请正对摄像头',
  offline: (n) => `离线 · ${n} 条待上传`,
  waiting: (n) => `${n} 条待上传`,
  nobodyEnrolled: '尚未录入任何员工',
  nobodyEnrolledHelp: '请管理员在管理模式中录入员工，或在中心数据库导入名单。',
  openAdmin: '管理模式',
  employeeNo: '工号',
  pin: '密码',
  punch: '打卡',
  cancel: '取消',
  wrongPin: (left) => `工号或密码错误，还可尝试 ${left} 次。`,
  lockedUntil: (time) => `错误次数过多，已锁定至 ${time}。`,
  noCamera: '没有摄像头',
  noCameraHelp: '请连接摄像头并允许本页面使用。仍可使用密码打卡。',
  modelsMissing: '无法加载人脸模型',
  modelsMissingHelp: '请重新安装打卡程序。仍可使用密码打卡。',
  queued: '已保存在本机，网络恢复后自动上传',
  issues: {
    NO_FACE: '请看摄像头',
    MULTIPLE_FACES: '请一次一人',
    FACE_TOO_SMALL: '请靠近一点',
    LOW_SCORE: '请看摄像头',
    HEAD_TURNED: '请正对摄像头',
    HEAD_PITCHED: '请正对摄像头',
    HEAD_TILTED: '请把头摆正',
    TOO_DARK: '光线太暗',
    TOO_BRIGHT: '光线太强',
    BLURRED: '请保持不动',
  },
  turnHead: (side) => `请把头转向${side}`,
  stillHere: (dir, time) => `您已打卡（${dir}，${time}）。请下一位。`,
  workedToday: (minutes) => `今日工作：${Math.floor(minutes / 60)} 小时 ${minutes % 60} 分钟`,
  confirmTitle: (dir) => `确定要打卡（${dir}）吗？`,
  confirmDetail: (lastDir, minutes) => (minutes < 1 ? `您不到一分钟前刚打卡（${lastDir}）。` : `您 ${minutes} 分钟前刚打卡（${lastDir}）。`),
  confirmYes: (dir) => `确定打卡（${dir}）`,
  confirmNo: '不，取消',
  notPunched: '未记录打卡',
  notYou: '不是您？使用密码打卡',
  punchedMeanwhile: (name, dir, time) => `${name}：${time} 已打卡（${dir}）`,
  typeEmployeeNo: '请输入工号',
  typePin: '请输入密码：4 至 8 位数字',
  keypadDelete: '删除',
  keypadClear: '清空',
  keypadLetters: 'ABC',
  keypadDigits: '123',
  pinTitle: '使用密码打卡',
  language: 'English',
  errors: {
    STORAGE_FULL: '打卡未记录：本机无法保存。请使用其他打卡机并告知主管。',
    CENTRAL_REQUIRED: '此操作需要连接中心服务器，目前无法连接。请稍后再试。',
    CENTRAL_UNREACHABLE: '无法连接中心服务器。请检查网络后重试。',
    CENTRAL_AUTH_FAILED: '中心服务器拒绝了本机。请联系 IT 检查注册信息。',
    CENTRAL_PERMISSION_DENIED: '中心服务器拒绝了本机。请联系 IT 检查注册信息。',
    KIOSK_REFUSED: '中心服务器拒绝了此操作。请联系 IT。',
    DUPLICATE_FACE: '已拒绝：此人脸已录入为其他员工。',
    ADMIN_LOCKED: (time) => `错误次数过多，管理模式已锁定至 ${time}。`,
    ADMIN_PIN_WRONG: (left) => `管理密码错误，还可尝试 ${left} 次。`,
    ADMIN_PIN_SET: '管理密码已设置。',
    generic: (code) => `操作未成功（${code}）。请告知主管。`,
  },
  left: '左边',
  right: '右边',
  in: '上班',
  out: '下班',
  admin: {
    title: '管理模式',
    setPin: '设置管理密码（4 至 8 位数字）',
    enterPin: '管理密码',
    unlock: '进入管理模式',
    close: '退出管理模式',
    syncNow: '立即同步',
    synced: (e, t) => `已同步：${e} 人，${t} 个人脸模板`,
    enrol: '用摄像头录入',
    enrolNo: '工号',
    enrolName: '姓名（新员工）',
    enrolStart: '拍照录入',
    cameraStarting: '正在启动摄像头…',
    enrolNeedsCentral: '录入需要连接中心数据库，目前无法连接',
    enrolDone: (name, n) => `${name}：已添加 ${n} 个人脸模板`,
    enrolDuplicate: (name) => `已拒绝：此人脸已录入为 ${name}`,
    enrolFrames: (n, of) => `合格照片：${n} / ${of}`,
    mode: '打卡方向',
    modeAuto: '自动（先上班后下班）',
    modeIn: '总是上班',
    modeOut: '总是下班',
    threshold: '匹配阈值',
    central: '中心服务器（主机:端口）',
    save: '保存设置',
    saved: '已保存',
    diagnostics: '诊断信息',
    pinFormat: '管理密码为 4 至 8 位数字',
    thresholdRange: '匹配阈值应在 0.20 至 1.00 之间',
    enrolNumberMissing: '请先输入工号',
    enrolNobody: '未拍到足够的照片。请站在摄像头前重试。',
    online: '在线',
    offline: '离线',
    lastSync: (when) => `上次同步 ${when}`,
    never: '从未',
    syncProblem: '上次同步失败：无法连接中心服务器或被拒绝',
  },
};

/** The screen's language: the one chosen on the kiosk (kept in localStorage), else the browser's. */
export function chosenLanguage(): 'en' | 'zh-CN' {
  const chosen = localStorage.getItem('clockface.language');
  if (chosen === 'en' || chosen === 'zh-CN') return chosen;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function chooseLanguage(language: 'en' | 'zh-CN'): void {
  localStorage.setItem('clockface.language', language);
}

export function strings(language: string = chosenLanguage()): Strings {
  return language.toLowerCase().startsWith('zh') ? zh : en;
}

/** A bridge error in the person's words: by its code, with its numbers; never the message (that is for the log). */
export function sayError(t: Strings, error: { code: string; attemptsLeft?: number; until?: string }, time: (iso: string) => string): string {
  const e = t.errors;
  switch (error.code) {
    case 'ADMIN_PIN_WRONG':
      return error.attemptsLeft === undefined ? e.ADMIN_PIN_SET : e.ADMIN_PIN_WRONG(error.attemptsLeft);
    case 'ADMIN_LOCKED':
      return e.ADMIN_LOCKED(error.until ? time(error.until) : '');
    case 'STORAGE_FULL':
    case 'CENTRAL_REQUIRED':
    case 'CENTRAL_UNREACHABLE':
    case 'CENTRAL_AUTH_FAILED':
    case 'CENTRAL_PERMISSION_DENIED':
    case 'KIOSK_REFUSED':
    case 'DUPLICATE_FACE':
      return e[error.code];
    default:
      return e.generic(error.code);
  }
}

export type { Strings };
