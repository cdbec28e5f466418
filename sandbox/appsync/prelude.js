// The APPSYNC_JS runtime's globals (util, runtime, extensions), the
// @aws-appsync/utils/dynamodb helpers (__ddb) and the handler runner (__run): see js.py.
var __errors = [];
var __logs = [];
// console.log and the others: AppSync sends them to the API's CloudWatch log group; the
// sandbox keeps them for EvaluateCode's logs
const console = {};
for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
  console[level] = (...parts) => {
    __logs.push(parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' '));
  };
}
// QuickJS may not call into Python under a time limit: these are JavaScript
function __uuid() {
  const hex = '0123456789abcdef';
  let out = '';
  for (const c of 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx') {
    const r = Math.floor(Math.random() * 16);
    out += c === 'x' ? hex[r] : c === 'y' ? hex[(r & 3) | 8] : c;
  }
  return out;
}
const __B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function __utf8(text) {
  return Array.from(unescape(encodeURIComponent(text))).map((c) => c.charCodeAt(0));
}
function __b64encode(text) {
  const bytes = __utf8(text);
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += __B64[(n >> 18) & 63] + __B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? __B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? __B64[n & 63] : '=';
  }
  return out;
}
function __b64decode(text) {
  const clean = text.replace(/[^A-Za-z0-9+/]/g, '');
  let bits = 0; let value = 0; let out = '';
  for (const c of clean) {
    value = (value << 6) | __B64.indexOf(c); bits += 6;
    if (bits >= 8) { bits -= 8; out += String.fromCharCode((value >> bits) & 255); }
  }
  return decodeURIComponent(escape(out));
}
function __UtilError(message, type, data, info) {
  this.message = message; this.type = type; this.data = data; this.info = info;
}
function __Early(value) { this.value = value; }
function __typed(v) {
  if (v === null || v === undefined) return { NULL: true };
  if (typeof v === 'boolean') return { BOOL: v };
  if (typeof v === 'number') return { N: String(v) };
  if (typeof v === 'string') return { S: v };
  if (Array.isArray(v)) return { L: v.map(__typed) };
  const m = {};
  for (const k of Object.keys(v)) m[k] = __typed(v[k]);
  return { M: m };
}
function __mapValues(o) {
  const m = {};
  for (const k of Object.keys(o || {})) m[k] = __typed(o[k]);
  return m;
}
const util = {
  autoId: () => __uuid(),
  error: (message, type, data, info) => { throw new __UtilError(message, type, data, info); },
  appendError: (message, type, data, info) => {
    __errors.push({ message: String(message), errorType: type ?? null, data: data ?? null,
                    errorInfo: info ?? null });
  },
  unauthorized: () => { throw new __UtilError('Unauthorized', 'Unauthorized'); },
  isNull: (v) => v === null || v === undefined,
  isNullOrEmpty: (v) => v === null || v === undefined || v === '',
  isNullOrBlank: (v) => v === null || v === undefined || (typeof v === 'string' && v.trim() === ''),
  defaultIfNull: (v, d) => (v === null || v === undefined ? d : v),
  defaultIfNullOrEmpty: (v, d) => (v === null || v === undefined || v === '' ? d : v),
  isString: (v) => typeof v === 'string',
  isNumber: (v) => typeof v === 'number',
  isBoolean: (v) => typeof v === 'boolean',
  isList: (v) => Array.isArray(v),
  isMap: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  urlEncode: (v) => encodeURIComponent(v),
  urlDecode: (v) => decodeURIComponent(v),
  base64Encode: (v) => __b64encode(String(v)),
  base64Decode: (v) => __b64decode(String(v)),
  escapeJavaScript: (v) => JSON.stringify(String(v)).slice(1, -1),
  time: {
    nowISO8601: () => new Date().toISOString(),
    nowEpochSeconds: () => Math.floor(Date.now() / 1000),
    nowEpochMilliSeconds: () => Date.now(),
  },
  dynamodb: {
    toDynamoDB: __typed,
    toMapValues: __mapValues,
    toString: (v) => ({ S: String(v) }),
    toNumber: (v) => ({ N: String(v) }),
    toList: (v) => ({ L: (v || []).map(__typed) }),
    toStringSet: (v) => ({ SS: v }),
    toNumberSet: (v) => ({ NS: v.map(String) }),
  },
};
const runtime = { earlyReturn: (value) => { throw new __Early(value); } };
const extensions = {};

// @aws-appsync/utils/dynamodb
function __names(path, names) {
  return path.split('.').map((part) => { names['#' + part] = part; return '#' + part; }).join('.');
}
function __condition(filter, names, values, prefix) {
  const parts = [];
  let i = 0;
  for (const field of Object.keys(filter || {})) {
    if (field === 'and' || field === 'or') {
      const inner = filter[field].map((f) => '(' + __condition(f, names, values, prefix + field + i) + ')');
      i = i + 1;
      parts.push(inner.join(field === 'and' ? ' AND ' : ' OR '));
      continue;
    }
    if (field === 'not') { parts.push('NOT (' + __condition(filter.not, names, values, prefix + 'n') + ')'); continue; }
    const ops = filter[field];
    const name = __names(field, names);
    for (const op of Object.keys(ops)) {
      const v = ':' + prefix + field.replace(/\W/g, '_') + '_' + op;
      const symbols = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' };
      if (symbols[op]) { values[v] = __typed(ops[op]); parts.push(name + ' ' + symbols[op] + ' ' + v); }
      else if (op === 'beginsWith') { values[v] = __typed(ops[op]); parts.push('begins_with(' + name + ', ' + v + ')'); }
      else if (op === 'contains') { values[v] = __typed(ops[op]); parts.push('contains(' + name + ', ' + v + ')'); }
      else if (op === 'between') {
        values[v + '0'] = __typed(ops[op][0]); values[v + '1'] = __typed(ops[op][1]);
        parts.push(name + ' BETWEEN ' + v + '0 AND ' + v + '1');
      } else if (op === 'attributeExists') { parts.push((ops[op] ? 'attribute_exists(' : 'attribute_not_exists(') + name + ')'); }
      else { util.error('Unsupported operator ' + op + ' in a @aws-appsync/utils/dynamodb filter', 'Sandbox.Unsupported'); }
    }
  }
  return parts.join(' AND ');
}
function __expression(filter, prefix) {
  if (!filter) return undefined;
  const names = {}; const values = {};
  const expression = __condition(filter, names, values, prefix);
  return { expression, expressionNames: names, expressionValues: values };
}
const __ddb = {
  get: (p) => ({ operation: 'GetItem', key: __mapValues(p.key), consistentRead: p.consistentRead }),
  put: (p) => ({ operation: 'PutItem', key: __mapValues(p.key), attributeValues: __mapValues(p.item),
                 condition: __expression(p.condition, 'c') }),
  remove: (p) => ({ operation: 'DeleteItem', key: __mapValues(p.key), condition: __expression(p.condition, 'c') }),
  scan: (p) => ({ operation: 'Scan', limit: p?.limit, nextToken: p?.nextToken, filter: __expression(p?.filter, 'f'),
                  index: p?.index, consistentRead: p?.consistentRead }),
  query: (p) => ({ operation: 'Query', query: __expression(p.query, 'q'), filter: __expression(p.filter, 'f'),
                   limit: p.limit, nextToken: p.nextToken, index: p.index,
                   scanIndexForward: p.scanIndexForward, consistentRead: p.consistentRead }),
  update: (p) => {
    const names = {}; const values = {}; const sets = []; const removes = [];
    for (const field of Object.keys(p.update)) {
      const value = p.update[field];
      const name = __names(field, names);
      const v = ':u_' + field.replace(/\W/g, '_');
      if (value && value.__op === 'increment') { values[v] = __typed(value.by); sets.push(name + ' = ' + name + ' + ' + v); }
      else if (value && value.__op === 'decrement') { values[v] = __typed(value.by); sets.push(name + ' = ' + name + ' - ' + v); }
      else if (value && value.__op === 'remove') { removes.push(name); }
      else if (value && value.__op === 'replace') { values[v] = __typed(value.value); sets.push(name + ' = ' + v); }
      else { values[v] = __typed(value); sets.push(name + ' = ' + v); }
    }
    let expression = '';
    if (sets.length) expression += 'SET ' + sets.join(', ');
    if (removes.length) expression += (expression ? ' ' : '') + 'REMOVE ' + removes.join(', ');
    const condition = __expression(p.condition, 'c');
    return { operation: 'UpdateItem', key: __mapValues(p.key),
             update: { expression, expressionNames: names, expressionValues: values }, condition };
  },
  operations: {
    increment: (by) => ({ __op: 'increment', by: by ?? 1 }),
    decrement: (by) => ({ __op: 'decrement', by: by ?? 1 }),
    remove: () => ({ __op: 'remove' }),
    replace: (value) => ({ __op: 'replace', value }),
  },
};
// what a resolver's code may reach is frozen: nothing one request does is seen by the next
function __deepFreeze(o) {
  for (const k of Object.keys(o)) {
    if (o[k] !== null && typeof o[k] === 'object') __deepFreeze(o[k]);
  }
  return Object.freeze(o);
}
__deepFreeze(util); __deepFreeze(runtime); __deepFreeze(extensions); __deepFreeze(__ddb);
__deepFreeze(console);
function __run(handler, text) {
  __errors = [];
  __logs = [];
  const ctx = JSON.parse(text);
  let outcome;
  try {
    if (typeof handler !== 'function') {
      outcome = { missing: true };
    } else {
      const value = handler(ctx);
      outcome = { value: value === undefined ? null : value };
    }
  } catch (e) {
    if (e instanceof __Early) outcome = { early: e.value === undefined ? null : e.value };
    else if (e instanceof __UtilError) outcome = { error: { message: String(e.message), errorType: e.type ?? null,
                                                             data: e.data ?? null, errorInfo: e.info ?? null } };
    else {
      // the error and the first lines of its stack (a deep recursion's would be thousands)
      const stack = e && e.stack ? String(e.stack).split('\n').slice(0, 5).join('\n') : '';
      outcome = { error: { message: String(e) + (stack ? '\n' + stack : ''), errorType: 'Code',
                           data: null, errorInfo: null } };
    }
  }
  outcome.errors = __errors;
  outcome.logs = __logs;
  outcome.stash = ctx.stash;
  return JSON.stringify(outcome);
}
