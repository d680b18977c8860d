import type { ErrorCode } from '../../shared/errors.js';
import type { QualityIssue } from '../../shared/face/quality.js';
import { CLOCK_IN_STEP_MS, describeClockOffset } from '../../shared/kiosk/clock-offset.js';

/*
 * Errors are said by code (see sayError): every code in shared/errors.ts has its own sentence in each language, so a
 * new code without one fails typecheck here. Several codes that mean the same to a person at the kiosk share one
 * sentence (IT has the code and the message in the kiosk's log).
 */
const EN_ASK_IT_SETUP = "This kiosk's setup on the central server has a problem. Ask IT.";
const EN_CENTRAL_VERSION = "The central database does not match this kiosk's version. Ask IT.";
const EN_KIOSK_DATA = "This kiosk's own data cannot be used. Ask IT.";
const EN_NOT_ON_KIOSK = 'That cannot be done on this kiosk. Please tell your supervisor.';
const EN_MODELS = 'The face models on this screen do not match this kiosk. Reinstall the kiosk app. You can still clock in with your PIN.';
const ZH_ASK_IT_SETUP = '本机在中心服务器上的设置有问题。请联系 IT。';
const ZH_CENTRAL_VERSION = '中心数据库与本机版本不匹配。请联系 IT。';
const ZH_KIOSK_DATA = '本机自身的数据无法使用。请联系 IT。';
const ZH_NOT_ON_KIOSK = '本机无法执行此操作。请告知主管。';
const ZH_MODELS = '本页面的人脸模型与本机不匹配。请重新安装打卡程序。仍可使用密码打卡。';

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
  /** The sentence for each error code; the ones with numbers beside them are in errorWith. */
  errors: {
    STORAGE_FULL: 'Your punch was NOT recorded: this kiosk cannot save. Please use another kiosk and tell your supervisor.',
    CENTRAL_REQUIRED: 'This needs the central server, which cannot be reached now. Try again later.',
    CENTRAL_UNREACHABLE: 'The central server cannot be reached. Check the network, then try again.',
    CENTRAL_AUTH_FAILED: 'The central server refused this kiosk. Ask IT to check its registration.',
    CENTRAL_TLS_FAILED: "The central server's certificate could not be verified. Ask IT.",
    CENTRAL_PERMISSION_DENIED: 'The central server refused this kiosk. Ask IT to check its registration.',
    CENTRAL_LIMIT_REACHED: "This kiosk has reached the central server's limit for today (such as enrolments per day). Ask IT, or try again tomorrow.",
    CENTRAL_BUSY: 'The central server is busy. Try again in a few minutes.',
    CENTRAL_LOCKED: 'The central server is busy with other work. Try again in a minute.',
    CENTRAL_VECTOR_MISSING: EN_CENTRAL_VERSION,
    CENTRAL_SCHEMA_TOO_NEW: EN_CENTRAL_VERSION,
    CENTRAL_SCHEMA_MODIFIED: EN_CENTRAL_VERSION,
    CENTRAL_NOT_MIGRATED: EN_CENTRAL_VERSION,
    KIOSK_REFUSED: 'The central server refused this. Ask IT.',
    CENTRAL_REFUSED: 'The central server refused this. Ask IT.',
    KIOSK_NOT_REGISTERED: 'This kiosk is not registered on the central server, or was revoked. Ask IT.',
    KIOSK_ROLE_BUSY: EN_ASK_IT_SETUP,
    KIOSK_EXISTS: EN_ASK_IT_SETUP,
    KIOSK_NOT_FOUND: EN_ASK_IT_SETUP,
    SITE_NOT_FOUND: EN_ASK_IT_SETUP,
    EMBEDDED_CENTRAL_LOCKED: EN_ASK_IT_SETUP,
    KIOSK_DB_TOO_NEW: EN_KIOSK_DATA,
    KIOSK_DB_INVALID: EN_KIOSK_DATA,
    KIOSK_NOT_INITIALISED: EN_KIOSK_DATA,
    KIOSK_SETTINGS_INVALID: EN_KIOSK_DATA,
    DUPLICATE_FACE: 'Refused: this face is already enrolled for someone else.',
    EMPLOYEE_ERASED: "This employee's face data was erased: no face can be enrolled for this number.",
    EMPLOYEE_NOT_FOUND: 'No employee has this number.',
    EMPLOYEE_NOT_SERVED: 'This number is not an active employee of a site this kiosk serves.',
    FULL_NAME_REQUIRED: 'This employee number is new: type the full name too.',
    INVALID_ARGUMENT: 'That was not accepted. Check the employee number and name, then try again.',
    INVALID_DESCRIPTOR: EN_MODELS,
    MODEL_MISMATCH: EN_MODELS,
    FACE_MODELS_MISSING: 'The face models could not be loaded. Reinstall the kiosk app. You can still clock in with your PIN.',
    IMAGE_UNREADABLE: EN_NOT_ON_KIOSK,
    IMAGE_TOO_LARGE: EN_NOT_ON_KIOSK,
    DATASET_INVALID: EN_NOT_ON_KIOSK,
    ROSTER_INVALID: EN_NOT_ON_KIOSK,
    // Corrections and supervisor logins happen in the back office, never at a kiosk.
    PUNCH_NOT_FOUND: EN_NOT_ON_KIOSK,
    PUNCH_VOIDED: EN_NOT_ON_KIOSK,
    CORRECTION_NOT_FOUND: EN_NOT_ON_KIOSK,
    CORRECTION_DECIDED: EN_NOT_ON_KIOSK,
    SECOND_APPROVAL_REQUIRED: EN_NOT_ON_KIOSK,
    LOGIN_EXISTS: EN_NOT_ON_KIOSK,
    SUPERVISOR_NOT_FOUND: EN_NOT_ON_KIOSK,
    MASS_DEACTIVATION_REFUSED: EN_NOT_ON_KIOSK,
    BRIDGE_INVALID: 'The screen and the kiosk did not understand each other. Reload the page; if it happens again, ask IT.',
    /** Without a lock time: the admin session ended (idle, or the kiosk restarted). */
    ADMIN_LOCKED: 'Admin mode has ended. Enter the admin PIN again.',
    /** Without a count of tries: the admin PIN was set, or not set, meanwhile (admin.ts says which). */
    ADMIN_PIN_WRONG: 'Wrong admin PIN.',
    INTERNAL: 'Something went wrong on this kiosk. Try again; if it happens again, tell your supervisor.',
  } satisfies Record<ErrorCode, string>,
  errorWith: {
    adminPinWrong: (left: number) => (left === 1 ? 'Wrong admin PIN. 1 try left.' : `Wrong admin PIN. ${left} tries left.`),
    adminLockedUntil: (time: string) => `Too many wrong tries. Admin mode is locked until ${time}.`,
    adminLocked: 'Too many wrong tries. Admin mode is locked for a few minutes.',
    /** A code this screen does not know; the code itself is only a reference for IT (see sayError). */
    unforeseen: (code: string) => `That did not work. Please tell your supervisor.${code ? ` (${code})` : ''}`,
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
    pinAlreadySet: 'An admin PIN has been set meanwhile: enter it to open admin mode.',
    pinNotSet: 'No admin PIN is set yet: choose one (4 to 8 digits).',
    centralFormat: 'Type the central server as a host name or address, optionally with :port (for example 10.0.0.5:5432).',
    diag: {
      kiosk: (kiosk: string, site: string) => `kiosk ${kiosk} · site ${site}`,
      model: (model: string, engine: string) => `model ${model} · index ${engine}`,
      roster: (people: number, templates: number) => `roster ${people} people, ${templates} templates`,
      waiting: (n: number) => `${n} punches waiting`,
      clock: (offsetMs: number | null) => `clock ${offsetMs === null ? 'offset unknown' : `${describeClockOffset(offsetMs)} (${offsetMs} ms)`}`,
      frames: (n: number, perSecond: string) => `frames ${n} (${perSecond}/s)`,
      timeToPunch: (ms: number) => `time to punch, last: ${ms} ms`,
    },
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
    CENTRAL_TLS_FAILED: '无法验证中心服务器的证书。请联系 IT。',
    CENTRAL_PERMISSION_DENIED: '中心服务器拒绝了本机。请联系 IT 检查注册信息。',
    CENTRAL_LIMIT_REACHED: '本机已达到中心服务器设定的今日上限（例如每日录入数量）。请联系 IT，或明天再试。',
    CENTRAL_BUSY: '中心服务器繁忙。请几分钟后重试。',
    CENTRAL_LOCKED: '中心服务器正忙于其他操作。请一分钟后重试。',
    CENTRAL_VECTOR_MISSING: ZH_CENTRAL_VERSION,
    CENTRAL_SCHEMA_TOO_NEW: ZH_CENTRAL_VERSION,
    CENTRAL_SCHEMA_MODIFIED: ZH_CENTRAL_VERSION,
    CENTRAL_NOT_MIGRATED: ZH_CENTRAL_VERSION,
    KIOSK_REFUSED: '中心服务器拒绝了此操作。请联系 IT。',
    CENTRAL_REFUSED: '中心服务器拒绝了此操作。请联系 IT。',
    KIOSK_NOT_REGISTERED: '本机未在中心服务器注册，或已被停用。请联系 IT。',
    KIOSK_ROLE_BUSY: ZH_ASK_IT_SETUP,
    KIOSK_EXISTS: ZH_ASK_IT_SETUP,
    KIOSK_NOT_FOUND: ZH_ASK_IT_SETUP,
    SITE_NOT_FOUND: ZH_ASK_IT_SETUP,
    EMBEDDED_CENTRAL_LOCKED: ZH_ASK_IT_SETUP,
    KIOSK_DB_TOO_NEW: ZH_KIOSK_DATA,
    KIOSK_DB_INVALID: ZH_KIOSK_DATA,
    KIOSK_NOT_INITIALISED: ZH_KIOSK_DATA,
    KIOSK_SETTINGS_INVALID: ZH_KIOSK_DATA,
    DUPLICATE_FACE: '已拒绝：此人脸已录入为其他员工。',
    EMPLOYEE_ERASED: '该员工的人脸数据已被删除，此工号不能再录入人脸。',
    EMPLOYEE_NOT_FOUND: '没有此工号的员工。',
    EMPLOYEE_NOT_SERVED: '此工号不是本机所服务场所的在职员工。',
    FULL_NAME_REQUIRED: '这是新工号：请同时输入姓名。',
    INVALID_ARGUMENT: '输入的内容未被接受。请检查工号和姓名后重试。',
    INVALID_DESCRIPTOR: ZH_MODELS,
    MODEL_MISMATCH: ZH_MODELS,
    FACE_MODELS_MISSING: '无法加载人脸模型。请重新安装打卡程序。仍可使用密码打卡。',
    IMAGE_UNREADABLE: ZH_NOT_ON_KIOSK,
    IMAGE_TOO_LARGE: ZH_NOT_ON_KIOSK,
    DATASET_INVALID: ZH_NOT_ON_KIOSK,
    ROSTER_INVALID: ZH_NOT_ON_KIOSK,
    PUNCH_NOT_FOUND: ZH_NOT_ON_KIOSK,
    PUNCH_VOIDED: ZH_NOT_ON_KIOSK,
    CORRECTION_NOT_FOUND: ZH_NOT_ON_KIOSK,
    CORRECTION_DECIDED: ZH_NOT_ON_KIOSK,
    SECOND_APPROVAL_REQUIRED: ZH_NOT_ON_KIOSK,
    LOGIN_EXISTS: ZH_NOT_ON_KIOSK,
    SUPERVISOR_NOT_FOUND: ZH_NOT_ON_KIOSK,
    MASS_DEACTIVATION_REFUSED: ZH_NOT_ON_KIOSK,
    BRIDGE_INVALID: '屏幕与打卡机通信出错。请刷新页面；如再次出现，请联系 IT。',
    ADMIN_LOCKED: '管理模式已结束。请重新输入管理密码。',
    ADMIN_PIN_WRONG: '管理密码错误。',
    INTERNAL: '本机出现问题，操作未完成。请重试；如再次出现，请告知主管。',
  },
  errorWith: {
    adminPinWrong: (left) => `管理密码错误，还可尝试 ${left} 次。`,
    adminLockedUntil: (time) => `错误次数过多，管理模式已锁定至 ${time}。`,
    adminLocked: '错误次数过多，管理模式已锁定几分钟。',
    unforeseen: (code) => `操作未成功。请告知主管。${code ? `（${code}）` : ''}`,
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
    pinAlreadySet: '管理密码已由他人设置：请输入管理密码进入管理模式。',
    pinNotSet: '尚未设置管理密码：请设置一个（4 至 8 位数字）。',
    centralFormat: '请输入中心服务器的主机名或地址，可附加端口（例如 10.0.0.5:5432）。',
    diag: {
      kiosk: (kiosk, site) => `打卡机 ${kiosk} · 场所 ${site}`,
      model: (model, engine) => `模型 ${model} · 索引 ${engine}`,
      roster: (people, templates) => `名单 ${people} 人，${templates} 个人脸模板`,
      waiting: (n) => `${n} 条打卡待上传`,
      clock: (offsetMs) => `时钟：${offsetMs === null ? '偏差未知' : `${zhClockOffset(offsetMs)}（${offsetMs} 毫秒）`}`,
      frames: (n, perSecond) => `已分析 ${n} 帧（每秒 ${perSecond} 帧）`,
      timeToPunch: (ms) => `最近一次打卡用时：${ms} 毫秒`,
    },
  },
};

/** describeClockOffset in Chinese: "与中心服务器一致", "比中心服务器快 5 秒", "比中心服务器慢 1 小时 30 分钟" (the two largest units). */
function zhClockOffset(offsetMs: number): string {
  if (!Number.isFinite(offsetMs)) return '偏差未知';
  const size = Math.abs(offsetMs);
  if (size < CLOCK_IN_STEP_MS) return '与中心服务器一致';
  const seconds = Math.round(size / 1000);
  const parts: Array<[number, string]> = [
    [Math.floor(seconds / 86_400), '天'],
    [Math.floor((seconds % 86_400) / 3600), '小时'],
    [Math.floor((seconds % 3600) / 60), '分钟'],
    [seconds % 60, '秒'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  const shown = parts.slice(first, first + 2).filter(([n]) => n > 0);
  return `比中心服务器${offsetMs > 0 ? '快' : '慢'} ${shown.map(([n, unit]) => `${n} ${unit}`).join(' ')}`;
}

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

/** What sayError reads of a bridge error: its code and the numbers beside it, never its message. */
export interface SaidError {
  code: string;
  attemptsLeft?: number;
  until?: string;
}

/**
 * A bridge error in the person's words: by its code, with its numbers; never the message (that is for the log).
 * Exhaustive by construction: `errors` has a sentence for every ErrorCode (typechecked), and a code this screen does
 * not know (a newer kiosk service) gets a plain sentence in the screen's language.
 */
export function sayError(t: Strings, error: SaidError, time: (iso: string) => string): string {
  if (error.code === 'ADMIN_PIN_WRONG' && error.attemptsLeft !== undefined) return t.errorWith.adminPinWrong(error.attemptsLeft);
  if (error.code === 'ADMIN_LOCKED' && error.until !== undefined) {
    return Number.isNaN(Date.parse(error.until)) ? t.errorWith.adminLocked : t.errorWith.adminLockedUntil(time(error.until));
  }
  if (isErrorCode(t, error.code)) return t.errors[error.code];
  // The code in parentheses is a reference for IT to look up in the kiosk's log, not a sentence: only a code-shaped
  // one is shown, so that no server text can reach the screen this way.
  return t.errorWith.unforeseen(/^[A-Z][A-Z0-9_]{0,39}$/.test(error.code) ? error.code : '');
}

function isErrorCode(t: Strings, code: string): code is ErrorCode {
  return Object.hasOwn(t.errors, code);
}

export type { Strings };
