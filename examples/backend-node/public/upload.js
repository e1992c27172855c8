// Seed 004's frontend code: tus-js-client with `endpoint` on this page's own backend, which
// answers POST /upload with 201 and Location: <Vidup upload URL>. The additions: the backend
// endpoint is this server's /upload, and a progress bar and status line mirror the console.
function showStatus(text, percentage) {
  document.getElementById('status').textContent = text;
  if (percentage !== undefined) {
    document.getElementById('progress').value = percentage;
  }
}

function initializeUpload(file, backendEndpoint) {
  const upload = new tus.Upload(file, {
    // Option 1: endpoint on your backend (recommended)
    endpoint: backendEndpoint,
    // Option 2: direct uploadURL (if you already have a Tus endpoint)
    // uploadUrl: "http://127.0.0.1:8080/files/<upload id>",
    retryDelays: [0, 3000, 5000, 10000, 20000],
    chunkSize: 10000000, // 10 MB per chunk
    metadata: {
      filename: file.name,
      filetype: file.type
    },
    onError: function(error) {
      console.error("Upload error:", error);
      showStatus(`Upload error: ${error}`);
    },
    onProgress: function(bytesUploaded, bytesTotal) {
      const percentage = ((bytesUploaded / bytesTotal) * 100).toFixed(2);
      console.log(`Uploaded: ${bytesUploaded} / ${bytesTotal} (${percentage}%)`);
      showStatus(`Uploaded: ${bytesUploaded} / ${bytesTotal} (${percentage}%)`, Number(percentage));
    },
    onSuccess: function() {
      console.log(`File ${upload.file.name} uploaded successfully. URL: ${upload.url}`);
      showStatus(`File ${upload.file.name} uploaded successfully. URL: ${upload.url}`, 100);
    }
  });

  // Find previous uploads for resuming
  upload.findPreviousUploads()
    .then(function(previousUploads) {
      if (previousUploads.length > 0) {
        upload.resumeFromPreviousUpload(previousUploads[0]);
        showStatus(`Resuming ${file.name}…`);
      }
      upload.start();
    })
    .catch(function(error) {
      console.error("Error finding previous uploads:", error);
      upload.start();
    });
}

document.addEventListener('DOMContentLoaded', function() {
  const fileInput = document.getElementById('file-input');
  if (!fileInput) {
    console.error('Element file-input not found');
    return;
  }

  fileInput.addEventListener('change', function(event) {
    const file = event.target.files[0];
    if (!file) {
      return;
    }

    const backendEndpoint = new URL('/upload', window.location.href).href;
    initializeUpload(file, backendEndpoint);
  });
});
