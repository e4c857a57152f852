// The studio page: the connector's properties panel, as a builder renders it.
// Forms are drawn by @json-editor/json-editor (static/vendor) from the schemas the studio's API
// returns; every check and every run is the runtime's own, through the API (see docs/studio.md).
'use strict'

const studio = {
  token: '',
  overview: null,
  auths: [],
  opEditor: null,
  opView: null,
  authEditor: null,
  timings: { firstPaint: null, lookups: {} },
  pages: []
}
window.studio = studio

// -- the API ------------------------------------------------------------------------------

function readToken () {
  const params = new URLSearchParams(window.location.search)
  const given = params.get('token')
  if (given) {
    sessionStorage.setItem('mscal-studio-token', given)
    // The token leaves the address bar (and the history) once read.
    history.replaceState(null, '', '/' + window.location.hash)
  }
  return given || sessionStorage.getItem('mscal-studio-token') || ''
}

async function api (path, body) {
  const init = { headers: { 'X-Studio-Token': studio.token } }
  if (body !== undefined) {
    init.method = 'POST'
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  const answer = await fetch('/api/' + path, init)
  let data = null
  try { data = await answer.json() } catch (e) { data = { error: { message: 'HTTP ' + answer.status } } }
  return { status: answer.status, data }
}

function banner (text, bad) {
  const el = document.getElementById('banner')
  el.textContent = text
  el.className = bad ? 'bad' : ''
  el.setAttribute('role', bad ? 'alert' : 'status')
  el.hidden = !text
}

function el (tag, attrs, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue
    if (key === 'text') node.textContent = value
    else node.setAttribute(key, value === true ? '' : value)
  }
  for (const child of children) if (child) node.append(child)
  return node
}

// -- tabs (arrow keys move between them, as the ARIA tabs pattern says) ----------------------

function selectTab (tab) {
  for (const other of document.querySelectorAll('[role=tab]')) {
    const chosen = other === tab
    other.setAttribute('aria-selected', String(chosen))
    other.tabIndex = chosen ? 0 : -1
    document.getElementById(other.getAttribute('aria-controls')).hidden = !chosen
  }
  if (tab.id === 'tab-triggers' && window.studioTriggers) window.studioTriggers.open()
}

function setUpTabs () {
  const tabs = [...document.querySelectorAll('[role=tab]')]
  tabs.forEach((tab, index) => {
    tab.addEventListener('click', () => selectTab(tab))
    tab.addEventListener('keydown', (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key]
      if (!step) return
      const next = tabs[(index + step + tabs.length) % tabs.length]
      selectTab(next)
      next.focus()
    })
  })
}

// -- forms ---------------------------------------------------------------------------------

const EDITOR_OPTIONS = {
  theme: 'html',
  disable_edit_json: true,
  disable_properties: true,
  disable_array_delete_all_rows: true,
  disable_array_delete_last_row: true,
  disable_array_reorder: true,
  prompt_before_delete: false,
  show_errors: 'never', // the runtime's messages are shown instead (showErrorAt)
  use_default_values: false, // an empty field stays empty (no 0 or "" the person never chose)
  required_by_default: false
}

function makeEditor (holder, schema, startval) {
  holder.innerHTML = ''
  const options = { ...EDITOR_OPTIONS, schema }
  if (startval !== undefined) options.startval = startval
  const editor = new window.JSONEditor(holder, options)
  return new Promise((resolve) => editor.on('ready', () => {
    editor.showValidationErrors([]) // the library's own messages never show: the runtime's do
    nameFoldButtons(holder)
    resolve(editor)
  }))
}

// The library's fold buttons say only "Expand": name the section they open, and its state.
function nameFoldButtons (holder) {
  for (const button of holder.querySelectorAll('button.json-editor-btntype-toggle')) {
    const title = button.parentElement.querySelector(':scope > span:not(:first-child), :scope > label')
    const name = title ? title.textContent.trim() : ''
    const group = button.closest('[data-schematype]')
    if (group && name) { group.setAttribute('role', 'group'); group.setAttribute('aria-label', name) }
    const label = () => {
      const open = button.textContent.trim() === 'Collapse'
      button.setAttribute('aria-expanded', String(open))
      button.setAttribute('aria-label', (open ? 'Collapse ' : 'Expand ') + name)
    }
    label()
    button.addEventListener('click', () => setTimeout(label, 0))
  }
  // A value of several types has a type switcher labelled "root[body] switcher": say what it is.
  for (const switcher of holder.querySelectorAll('select.je-switcher')) {
    const caption = switcher.parentElement.querySelector(':scope > b')
    const label = holder.querySelector(`label[for="${CSS.escape(switcher.id)}"]`)
    if (caption && label) label.textContent = caption.textContent.trim() + ': kind of value'
  }
}

// A runtime field ("event.attendees[0].emailAddress") as the editor's path, inside the
// "Advanced" fold when it lives there; the deepest editor that exists shows the message.
function editorPath (editor, field) {
  const parts = field ? field.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean) : []
  for (const prefix of [[], ['advanced']]) {
    for (let n = parts.length; n >= 0; n--) {
      const path = ['root', ...prefix, ...parts.slice(0, n)].join('.')
      if ((n > 0 || prefix.length === 0) && editor.getEditor(path)) return path
    }
  }
  return 'root'
}

function showErrorAt (editor, error) {
  if (!editor) return
  if (!error) { editor.showValidationErrors([]); return }
  const path = editorPath(editor, error.field || '')
  if (path.startsWith('root.advanced')) {
    const fold = editor.getEditor('root.advanced')
    if (fold && fold.collapsed && fold.toggle_button) fold.toggle_button.click()
  }
  editor.showValidationErrors([{ path, property: error.rule || '', message: error.message }])
}

function isEmpty (value, schema) {
  if (value === undefined || value === null || value === '') return true
  if (typeof value === 'number' && Number.isNaN(value)) return true
  if (value === false && (schema || {}).default === undefined) return true
  if (Array.isArray(value)) return value.length === 0
  if (typeof value === 'object') return Object.keys(value).length === 0
  return false
}

// What a person left empty is not an input (the runtime applies the spec's defaults), and
// neither is what the form library put in a section nobody touched (a default time zone, a 0
// in a required number): \`initial\` is the form's value when it was drawn. Returns the value
// and whether anything in it differs from that.
function pruned (value, schema, initial) {
  schema = schema || {}
  if (Array.isArray(value)) {
    const items = value.map((item) => pruned(item, schema.items)[0]).filter((item) => !isEmpty(item, schema.items))
    return [items, items.length > 0]
  }
  if (value && typeof value === 'object') {
    const out = {}
    let touched = false
    const before = initial && typeof initial === 'object' ? initial : {}
    for (const [key, item] of Object.entries(value)) {
      const sub = (schema.properties || {})[key] || {}
      const [kept, changed] = pruned(item, sub, before[key])
      if (isEmpty(kept, sub)) continue
      if (!changed && (sub.default === undefined || typeof kept === 'object')) continue
      out[key] = kept
      touched = touched || changed
    }
    return [out, touched]
  }
  return [value, JSON.stringify(value) !== JSON.stringify(initial)]
}

function prune (value, schema, initial) {
  return pruned(value, schema, initial)[0]
}

function debounce (fn, ms) {
  let timer = null
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms) }
}

// -- authentications -------------------------------------------------------------------------

async function loadAuths (choose) {
  const { data } = await api('authentications')
  studio.auths = Array.isArray(data) ? data : []
  const rows = document.getElementById('auth-rows')
  rows.innerHTML = ''
  for (const auth of studio.auths) {
    const v = auth.values
    rows.append(el('tr', {},
      el('th', { scope: 'row', text: auth.name }),
      el('td', { text: auth.where === 'shared' ? 'Organisational' : 'Personal' }),
      el('td', { text: v.grant_type || '' }),
      el('td', { text: v.tenant_id || '' }),
      el('td', { text: v.base_url || '' }),
      el('td', { text: auth.secrets_set.map((s) => s + ' ********').join(', ') || 'none' }),
      el('td', { text: auth.signed_in ? 'Signed in' : 'Not signed in' })))
  }
  if (!studio.auths.length) rows.append(el('tr', {}, el('td', { colspan: '7', text: 'None yet: create one.' })))
  const select = document.getElementById('auth-choice')
  const previous = choose || select.value || localStorage.getItem('mscal-studio-auth') || ''
  select.innerHTML = ''
  select.append(el('option', { value: '', text: '(none)' }))
  for (const auth of studio.auths) select.append(el('option', { value: auth.name, text: auth.name }))
  if (studio.auths.some((a) => a.name === previous)) select.value = previous
  localStorage.setItem('mscal-studio-auth', select.value)
}

async function openAuthDialog () {
  const dialog = document.getElementById('auth-dialog')
  document.getElementById('auth-dialog-error').textContent = ''
  dialog.showModal()
  studio.authEditor = await makeEditor(document.getElementById('auth-editor'), studio.overview.auth_form)
  const check = debounce(async () => {
    const { data } = await api('authentications/check', studio.authEditor.getValue())
    showErrorAt(studio.authEditor, data.error && data.error.field !== 'name' ? data.error : null)
  }, 250)
  studio.authEditor.on('change', check)
  const first = [...dialog.querySelectorAll('#auth-editor input, #auth-editor select')]
    .find((field) => field.offsetParent !== null)
  if (first) first.focus()
}

async function createAuth () {
  const message = document.getElementById('auth-dialog-error')
  message.textContent = ''
  const value = studio.authEditor.getValue()
  const { data } = await api('authentications', value)
  if (data.error) {
    showErrorAt(studio.authEditor, data.error)
    message.textContent = (data.error.field ? data.error.field + ': ' : '') + data.error.message
    return
  }
  localStorage.setItem('mscal-studio-auth', data.name)
  if (data.redirect) {
    // Sign in through the identity platform; it sends the browser back to /callback.
    window.location.assign(data.redirect)
    return
  }
  document.getElementById('auth-dialog').close()
  banner(`Authentication ${data.name} is saved and signed in.`)
  await loadAuths(data.name)
}

// -- operations ------------------------------------------------------------------------------

function buildNav () {
  const nav = document.getElementById('op-nav')
  nav.innerHTML = ''
  for (const group of studio.overview.groups) {
    const id = 'group-' + group.title.replace(/\W+/g, '-')
    const list = el('ul', { 'aria-labelledby': id })
    for (const op of group.operations) {
      const button = el('button', { type: 'button', 'data-operation': op.name, title: op.description, text: op.title })
      button.addEventListener('click', () => openOperation(op.name))
      list.append(el('li', {}, button))
    }
    nav.append(el('h3', { id, text: group.title }), list)
  }
}

function lookupFields (schema) {
  const found = []
  const props = schema.properties || {}
  for (const [name, prop] of Object.entries(props)) {
    if (prop['x-lookup']) found.push([name, prop])
  }
  const folded = (props.advanced || {}).properties || {}
  for (const [name, prop] of Object.entries(folded)) {
    if (prop['x-lookup']) found.push([name, prop])
  }
  return found
}

// Each `x-lookup` input becomes a dropdown of what its operation returns for the chosen
// authentication (the lookups run side by side before the form is drawn).
async function fillLookups (operation, schema, timingKey) {
  const auth = document.getElementById('auth-choice').value
  if (!auth) return
  await Promise.all(lookupFields(schema).map(async ([name, prop]) => {
    const began = performance.now()
    const { data } = await api('lookup', { operation, field: name, auth })
    if (!data.choices) {
      // The input stays a text field; the reason is kept for the help line.
      prop.description = (prop.description || '') + ' (Lookup failed: ' + data.error.message + ')'
      return
    }
    prop.enum = ['', ...data.choices.map((c) => c.value)]
    prop.options = { ...(prop.options || {}), enum_titles: ['(choose)', ...data.choices.map((c) => c.label)] }
    delete prop.minLength
    studio.timings.lookups[(timingKey || operation) + '.' + name] = performance.now() - began
  }))
}

async function openOperation (name) {
  const detail = document.getElementById('op-detail')
  detail.dataset.ready = ''
  detail.setAttribute('aria-busy', 'true')
  for (const button of document.querySelectorAll('#op-nav button')) {
    button.setAttribute('aria-current', String(button.dataset.operation === name))
  }
  const { data } = await api('operations/' + encodeURIComponent(name))
  if (data.error) { banner(data.error.message, true); return }
  studio.opView = data
  studio.pages = []
  document.getElementById('op-empty').hidden = true
  document.getElementById('op-detail').hidden = false
  document.getElementById('op-title').textContent = data.title
  document.getElementById('op-description').textContent = data.description || ''
  const perms = data.permissions || {}
  document.getElementById('op-permissions').textContent =
    'Permissions: ' + ((perms.delegated || []).join(', ') || 'none') + ' (delegated), ' +
    ((perms.application || []).join(', ') || 'none') + ' (application)' + (data.paginated ? '. Paged.' : '')
  document.getElementById('op-error').textContent = ''
  document.getElementById('op-output').innerHTML = ''
  document.getElementById('next-page').hidden = true
  const schema = data.form
  await fillLookups(name, schema)
  studio.opEditor = await makeEditor(document.getElementById('op-editor'), schema)
  studio.opInitial = studio.opEditor.getValue()
  studio.opEditor.on('change', debounce(checkInputs, 300))
  detail.dataset.ready = name
  detail.setAttribute('aria-busy', 'false')
}

function currentInputs () {
  return prune(studio.opEditor.getValue(), studio.opView.form, studio.opInitial)
}

async function checkInputs () {
  if (!studio.opEditor || !studio.opView) return
  const { data } = await api('check', { operation: studio.opView.name, inputs: currentInputs() })
  // A missing required input is said when the person runs, not while they type.
  const error = data.error && data.error.rule !== 'required' ? data.error : null
  showErrorAt(studio.opEditor, error)
  document.getElementById('op-error').textContent = error ? describeError(error) : ''
}

function describeError (error) {
  return (error.field ? error.field + ': ' : '') + error.message
}

function pre (label, value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2)
  return el('pre', { 'aria-label': label, tabindex: '0', text: text === undefined ? '' : text })
}

function headerLines (headers) {
  return Object.entries(headers || {}).map(([k, v]) => k + ': ' + v).join('\n')
}

function showExchange (exchange, heading) {
  const box = el('section', { class: 'exchange', 'aria-label': heading })
  box.append(el('h3', { text: heading }))
  const request = exchange.request
  box.append(el('h4', { text: 'Request' }))
  box.append(pre('Request', request.method + ' ' + request.url + '\n' + headerLines(request.headers) +
    (request.body !== null && request.body !== undefined ? '\n\n' + (typeof request.body === 'string' ? request.body : JSON.stringify(request.body, null, 2)) : '')))
  const response = exchange.response
  if (response) {
    box.append(el('h4', { text: 'Response' }))
    box.append(el('p', { class: response.status < 400 ? 'status-ok' : 'status-bad', text: `Status ${response.status} in ${response.ms} ms` }))
    box.append(pre('Response headers', headerLines(response.headers)))
    box.append(pre('Response body', response.body === null ? '(no body)' : response.body))
  }
  return box
}

async function runOperation (extra) {
  if (!studio.opEditor) return
  const output = document.getElementById('op-output')
  const message = document.getElementById('op-error')
  // The next page starts from its link alone (the link carries the query of the first).
  const inputs = extra || currentInputs()
  const auth = document.getElementById('auth-choice').value
  message.textContent = ''
  const { data } = await api('run', { operation: studio.opView.name, inputs, auth })
  if (!extra) { output.innerHTML = ''; studio.pages = [] }
  if (data.error && !data.exchanges) {
    message.textContent = describeError(data.error.error || data.error)
    studio.runs = (studio.runs || 0) + 1
    return
  }
  studio.pages.push(data)
  const paged = studio.opView.paginated
  const pageNumber = studio.pages.length
  const summary = el('p', { text: `${paged ? 'Page ' + pageNumber + ': ' : ''}${data.exchanges.length} request(s), ${data.ms} ms in all` })
  output.append(summary)
  data.exchanges.forEach((exchange, index) => {
    output.append(showExchange(exchange, (paged ? `Page ${pageNumber}, request ` : 'Request ') + (index + 1)))
  })
  if (data.error) {
    showErrorAt(studio.opEditor, data.error.field !== undefined ? data.error : null)
    message.textContent = describeError(data.error)
    output.append(el('h3', { text: 'Error' }), pre('Error', data.error))
  } else {
    showErrorAt(studio.opEditor, null)
    output.append(el('h3', { text: 'Result' }), pre('Result', data.result))
  }
  const next = document.getElementById('next-page')
  const link = data.result && typeof data.result === 'object' ? data.result.next_link : null
  next.hidden = !(paged && link)
  next.onclick = () => runOperation({ next_link: link })
  studio.runs = (studio.runs || 0) + 1 // how many runs have been shown (tests wait on it)
}

// -- start -----------------------------------------------------------------------------------

async function start () {
  studio.token = readToken()
  setUpTabs()
  const { status, data } = await api('overview')
  if (status !== 200) { banner(data.error ? data.error.message : 'The studio did not answer.', true); return }
  studio.overview = data
  document.getElementById('title').textContent = data.title + ' ' + data.version
  document.getElementById('subtitle').textContent = data.description + ' (spec: ' + data.root + ')'
  buildNav()
  const hash = new URLSearchParams(window.location.hash.slice(1))
  await loadAuths(hash.get('signed-in') || undefined)
  if (hash.get('signed-in')) banner(`Authentication ${hash.get('signed-in')} is saved and signed in.`)
  if (hash.get('signin-error')) banner('Sign-in failed: ' + hash.get('signin-error'), true)
  document.getElementById('new-auth').addEventListener('click', openAuthDialog)
  document.getElementById('create-auth').addEventListener('click', createAuth)
  document.getElementById('cancel-auth').addEventListener('click', () => document.getElementById('auth-dialog').close())
  document.getElementById('run').addEventListener('click', () => runOperation())
  document.getElementById('auth-choice').addEventListener('change', (event) => {
    localStorage.setItem('mscal-studio-auth', event.target.value)
    if (studio.opView) openOperation(studio.opView.name)
  })
  studio.timings.firstPaint = performance.now()
  document.body.dataset.ready = 'true'
}

// What the Triggers tab (triggers.js) shares with the rest of the page.
Object.assign(studio, { api, el, banner, makeEditor, prune, showErrorAt, fillLookups, describeError })

document.addEventListener('DOMContentLoaded', start)
