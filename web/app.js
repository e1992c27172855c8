// Vidup demo page: resumable uploads with tus-js-client (global `tus`, from /static/vendor/tus.min.js).
//
// Flow, for each chosen file:
//   1. new tus.Upload(file, ...) and findPreviousUploads(): tus-js-client keeps the upload URL of an
//      unfinished upload in localStorage, keyed by the file's name, type, size and mtime.
//   2. Found: resumeFromPreviousUpload() and start. The upload URL authorises itself, so no grant.
//   3. Not found: POST /demo/grant (the server playing the customer's backend signs seed 000's
//      Signature/Expiration/Video-Id headers for a new video), put them in options.headers, start.
// So reloading the page mid-upload and choosing the same file again carries on where it stopped.
//
// Test hook: ?chunk=<bytes> overrides the chunk size (default 5 MiB).
'use strict'

;(function () {
  const kMiB = 1024 * 1024
  const kDefaultChunkSize = 5 * kMiB
  const kEndpoint = '/tusupload'
  const kRetryDelays = [0, 1000, 3000, 5000]
  const kRefreshMs = 2000
  const kVideoKeyPrefix = 'vidup-demo.video:' // + upload URL -> video id, to name resumed uploads
  const kDemoOffMessage = 'The demo backend is off: start vidup with --demo to upload from this page.'

  const el = {
    file: document.getElementById('file-input'),
    upload: document.getElementById('upload-button'),
    pause: document.getElementById('pause-button'),
    resume: document.getElementById('resume-button'),
    progress: document.getElementById('progress'),
    fill: document.getElementById('progress-fill'),
    bytes: document.getElementById('progress-bytes'),
    percent: document.getElementById('progress-percent'),
    status: document.getElementById('status'),
    videoId: document.getElementById('video-id'),
    videos: document.getElementById('videos-body'),
  }

  let current = null // {upload, file, videoId, state}

  function chunkSize() {
    const raw = new URLSearchParams(window.location.search).get('chunk')
    const n = raw === null ? NaN : Number(raw)
    return Number.isSafeInteger(n) && n > 0 ? n : kDefaultChunkSize
  }

  function formatBytes(n) {
    if (n === null || n === undefined) return '—'
    if (n < 1024) return `${n} B`
    const units = ['KiB', 'MiB', 'GiB', 'TiB']
    let value = n / 1024
    let unit = 0
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024
      unit += 1
    }
    return `${value.toFixed(1)} ${units[unit]}`
  }

  function formatWhen(iso) {
    const t = Date.parse(iso)
    if (Number.isNaN(t)) return iso || '—'
    const seconds = Math.round((Date.now() - t) / 1000)
    if (seconds < 5) return 'just now'
    if (seconds < 60) return `${seconds} s ago`
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
    return new Date(t).toLocaleString()
  }

  // state: idle | preparing | uploading | paused | success | error
  function setStatus(state, text) {
    el.status.dataset.state = state
    el.status.textContent = text
    if (current) current.state = state
    const running = state === 'preparing' || state === 'uploading'
    el.upload.disabled = running || !el.file.files.length
    el.pause.disabled = state !== 'uploading'
    el.resume.disabled = state !== 'paused'
  }

  function setProgress(sent, total) {
    const pct = total > 0 ? (sent / total) * 100 : 0
    el.progress.setAttribute('aria-valuenow', pct.toFixed(1))
    el.fill.style.width = `${pct}%`
    el.bytes.textContent = `${formatBytes(sent)} / ${formatBytes(total)}`
    el.percent.textContent = `${pct.toFixed(1)}%`
  }

  function showVideoId(id) {
    el.videoId.hidden = !id
    el.videoId.textContent = id ? `Video ${id}` : ''
    el.videoId.dataset.videoId = id || ''
  }

  // The JSON error body's message, or the status line.
  async function errorText(res) {
    try {
      const body = await res.json()
      const msg = body && (body.error && (body.error.message || body.error) || body.message)
      if (typeof msg === 'string' && msg) return msg
    } catch (_) {
      // not JSON
    }
    return `HTTP ${res.status}`
  }

  async function requestGrant(file) {
    const res = await fetch('/demo/grant', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ filename: file.name, filetype: file.type, size: file.size }),
    })
    if (res.status === 404) throw new Error(kDemoOffMessage)
    if (res.status !== 201) throw new Error(`The upload was not granted: ${await errorText(res)}`)
    return res.json()
  }

  function applyGrant(entry, grant) {
    entry.videoId = grant.video_id
    entry.upload.options.headers = { ...grant.headers }
    showVideoId(grant.video_id)
  }

  function describeError(error) {
    const res = error && error.originalResponse
    const status = res ? res.getStatus() : 0
    if (status === 401 || status === 403) return `The server refused the upload (HTTP ${status}): ${res.getBody() || ''}`.trim()
    if (status) return `Upload failed (HTTP ${status}): ${res.getBody() || error.message}`
    return `Upload failed: ${error && error.message ? error.message : error}`
  }

  function newUpload(file) {
    const metadata = { filename: file.name }
    if (file.type) metadata.filetype = file.type
    const entry = { upload: null, file, videoId: null, state: 'idle' }
    const upload = new tus.Upload(file, {
      endpoint: kEndpoint,
      chunkSize: chunkSize(),
      retryDelays: kRetryDelays,
      metadata,
      headers: {},
      removeFingerprintOnSuccess: true,
      // A resumed upload whose URL has gone (expired, removed) makes tus-js-client fall back to a
      // new POST: that one needs a grant too.
      onBeforeRequest: async (req) => {
        if (req.getMethod() !== 'POST' || upload.options.headers.Signature) return
        const grant = await requestGrant(file)
        applyGrant(entry, grant)
        for (const [name, value] of Object.entries(grant.headers)) req.setHeader(name, value)
      },
      onUploadUrlAvailable: () => {
        if (!entry.videoId) {
          entry.videoId = window.localStorage.getItem(kVideoKeyPrefix + upload.url)
          showVideoId(entry.videoId)
        } else {
          window.localStorage.setItem(kVideoKeyPrefix + upload.url, entry.videoId)
        }
      },
      onProgress: (sent, total) => {
        if (current !== entry) return
        setProgress(sent, total)
        if (entry.state !== 'uploading') setStatus('uploading', `Uploading ${file.name}…`)
      },
      onSuccess: () => {
        window.localStorage.removeItem(kVideoKeyPrefix + upload.url)
        if (current !== entry) return
        setProgress(file.size, file.size)
        setStatus('success', `Uploaded ${file.name} (${formatBytes(file.size)}).`)
        refreshVideos()
      },
      onError: (error) => {
        if (current !== entry) return
        setStatus('error', describeError(error))
      },
    })
    entry.upload = upload
    return entry
  }

  async function startUpload(file) {
    if (current && (current.state === 'uploading' || current.state === 'preparing')) {
      current.upload.abort()
    }
    const entry = newUpload(file)
    current = entry
    showVideoId(null)
    setProgress(0, file.size)
    setStatus('preparing', `Preparing ${file.name}…`)
    try {
      let previous = []
      try {
        previous = await entry.upload.findPreviousUploads()
      } catch (_) {
        previous = [] // no usable localStorage: upload from the start
      }
      if (previous.length > 0) {
        entry.upload.resumeFromPreviousUpload(previous[0])
        setStatus('preparing', `Resuming ${file.name}…`)
      } else {
        applyGrant(entry, await requestGrant(file))
      }
      if (current !== entry) return
      entry.upload.start()
    } catch (error) {
      if (current === entry) setStatus('error', error.message || String(error))
    }
  }

  function chosenFile() {
    return el.file.files.length ? el.file.files[0] : null
  }

  el.file.addEventListener('change', () => {
    const file = chosenFile()
    if (file) startUpload(file)
  })
  el.upload.addEventListener('click', () => {
    const file = chosenFile()
    if (file) startUpload(file)
  })
  el.pause.addEventListener('click', () => {
    if (!current || current.state !== 'uploading') return
    current.upload.abort()
    setStatus('paused', `Paused ${current.file.name}.`)
  })
  el.resume.addEventListener('click', () => {
    if (!current || current.state !== 'paused') return
    setStatus('uploading', `Uploading ${current.file.name}…`)
    current.upload.start()
  })

  // Recent videos ----------------------------------------------------------------------------------

  function cell(text, className) {
    const td = document.createElement('td')
    td.textContent = text
    if (className) td.className = className
    return td
  }

  function messageRow(text) {
    const tr = document.createElement('tr')
    tr.className = 'empty'
    const td = cell(text)
    td.colSpan = 4
    tr.appendChild(td)
    return tr
  }

  function videoRow(video) {
    const tr = document.createElement('tr')
    tr.dataset.videoId = video.id
    tr.dataset.status = video.status
    tr.appendChild(cell(video.title || video.filename || video.id, 'title'))
    const status = cell('', 'status')
    const badge = document.createElement('span')
    badge.className = `badge badge-${video.status}`
    badge.textContent = video.status
    if (video.status === 'uploading' && video.size > 0) {
      badge.textContent = `uploading ${Math.floor((video.bytes_received / video.size) * 100)}%`
    }
    status.appendChild(badge)
    tr.appendChild(status)
    tr.appendChild(cell(formatBytes(video.size), 'num'))
    const updated = cell(formatWhen(video.updated_at))
    updated.title = video.updated_at || ''
    tr.appendChild(updated)
    return tr
  }

  async function refreshVideos() {
    let rows
    try {
      const res = await fetch('/demo/videos', { cache: 'no-store' })
      if (res.status === 404) {
        rows = [messageRow(kDemoOffMessage)]
      } else if (!res.ok) {
        rows = [messageRow(`Could not list videos: ${await errorText(res)}`)]
      } else {
        const body = await res.json()
        const videos = Array.isArray(body.data) ? body.data : []
        rows = videos.length ? videos.map(videoRow) : [messageRow('No videos yet.')]
      }
    } catch (error) {
      rows = [messageRow(`Could not list videos: ${error.message}`)]
    }
    el.videos.replaceChildren(...rows)
  }

  function refreshLoop() {
    refreshVideos().finally(() => window.setTimeout(refreshLoop, kRefreshMs))
  }

  if (typeof tus === 'undefined' || !tus.isSupported) {
    setStatus('error', 'This browser cannot run tus-js-client (or /static/vendor/tus.min.js is missing).')
    el.file.disabled = true
  } else {
    setStatus('idle', 'Choose a video file to upload.')
  }
  refreshLoop()
})()
