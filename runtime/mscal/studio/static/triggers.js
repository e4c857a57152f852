// The Triggers tab: pick a trigger, set its inputs, start it, and see its changes arrive.
// The studio runs the trigger (the runtime's own `Trigger.poll`); this page asks it for what
// is new about once a second.
'use strict'

const triggers = { editor: null, view: null, watch: null, next: 0, timer: null, opened: false }

async function showTrigger (name) {
  const { api, makeEditor, fillLookups } = window.studio
  const { data } = await api('triggers/' + encodeURIComponent(name))
  if (data.error) { window.studio.banner(data.error.message, true); return }
  triggers.view = data
  document.getElementById('trigger-description').textContent =
    data.description + ' Emits: ' + data.changes.join(', ') + '.'
  await fillLookups(name, data.form, 'trigger:' + name)
  triggers.editor = await makeEditor(document.getElementById('trigger-editor'), data.form)
  triggers.initial = triggers.editor.getValue()
  document.getElementById('panel-triggers').dataset.ready = name
}

function describeChange (change) {
  const event = change.event || {}
  const when = event.start && event.start.dateTime ? ' at ' + event.start.dateTime : ''
  return `${change.change}: ${event.subject || '(no subject)'}${when} (${change.event_id})`
}

async function refresh () {
  if (!triggers.watch) return
  const { data } = await window.studio.api('watches/' + triggers.watch + '?after=' + triggers.next)
  const status = document.getElementById('trigger-status')
  if (data.error && !data.id) { status.textContent = data.error.message; stopPolling(); return }
  const list = document.getElementById('trigger-changes')
  for (const change of data.changes) {
    list.append(window.studio.el('li', { text: describeChange(change), 'data-change': change.change }))
  }
  triggers.next = data.next
  status.textContent = (data.running ? 'Watching ' : 'Stopped ') + data.trigger + ': ' +
    data.rounds + ' round(s)' + (data.rounds ? ` (the first recorded a baseline; last ${data.last_round_ms} ms)` : '') +
    (data.error ? '. Last round failed: ' + data.error : '')
  if (!data.running) stopPolling()
}

function stopPolling () {
  clearInterval(triggers.timer)
  triggers.timer = null
  document.getElementById('trigger-start').disabled = false
  document.getElementById('trigger-stop').disabled = true
}

async function startTrigger () {
  const { api, prune, showErrorAt, describeError } = window.studio
  const message = document.getElementById('trigger-error')
  message.textContent = ''
  if (triggers.watch) await stopTrigger()
  const auth = document.getElementById('auth-choice').value
  const inputs = prune(triggers.editor.getValue(), triggers.view.form, triggers.initial)
  const interval = Number(document.getElementById('trigger-interval').value) || 5
  const { data } = await api('watches', { trigger: triggers.view.name, inputs, auth, interval })
  if (data.error) {
    showErrorAt(triggers.editor, data.error)
    message.textContent = describeError(data.error)
    return
  }
  showErrorAt(triggers.editor, null)
  triggers.watch = data.id
  triggers.next = 0
  document.getElementById('trigger-changes').innerHTML = ''
  document.getElementById('trigger-start').disabled = true
  document.getElementById('trigger-stop').disabled = false
  triggers.timer = setInterval(refresh, 1000)
  await refresh()
}

async function stopTrigger () {
  if (!triggers.watch) return
  await window.studio.api('watches/' + triggers.watch + '/stop', {})
  await refresh()
  triggers.watch = null
  stopPolling()
}

window.studioTriggers = {
  async open () {
    if (triggers.opened) return
    triggers.opened = true
    const select = document.getElementById('trigger-choice')
    for (const trigger of window.studio.overview.triggers) {
      select.append(window.studio.el('option', { value: trigger.name, text: trigger.title }))
    }
    select.addEventListener('change', () => showTrigger(select.value))
    document.getElementById('trigger-start').addEventListener('click', startTrigger)
    document.getElementById('trigger-stop').addEventListener('click', stopTrigger)
    if (select.value) await showTrigger(select.value)
  }
}
