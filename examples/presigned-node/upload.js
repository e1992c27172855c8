// Seed 000's "Upload Example JavaScript", against Vidup. The one change from the seed: the
// endpoint, API key, video id and file path come from the environment and the command line
// (and a failed upload exits 1), so the example runs as it is:
//
//   VIDUP_API_KEY=ky_... VIDUP_VIDEO_ID=<uuid> node upload.js ./video.mp4
const fs = require('fs');
const tus = require('tus-js-client');
const crypto = require('crypto');

// Path to local file
const path = process.argv[2]

// The tus endpoint of your Vidup server
const endpoint = process.env.VIDUP_ENDPOINT || "http://127.0.0.1:8080/tusupload"

// Your API key (`vidup keys create`)
const apiKey = process.env.VIDUP_API_KEY

// The video UUID of the previously created video object (POST /v1/videos)
const videoId = process.env.VIDUP_VIDEO_ID

if (!path || !apiKey || !videoId) {
    console.error("usage: VIDUP_API_KEY=ky_... VIDUP_VIDEO_ID=<video id> [VIDUP_ENDPOINT=" + endpoint + "] node upload.js <file>")
    process.exit(2)
}

// Expiration time in seconds should be at least 1 hour from now
const expiration = Math.floor(Date.now() / 1000) + 3600;

function getSignature() {
    const val = apiKey + expiration + videoId
    const signature = crypto.createHash('sha256').update(val).digest('hex');
    return signature;    
}

function main() {
    const file = fs.createReadStream(path);
    const signature = getSignature();

    const upload = new tus.Upload(file, {
        endpoint: endpoint,
        retryDelays: [0, 3000, 5000, 10000, 20000, 60000, 60000],
        // Upload headers with the signature and expiration
        headers: {
            signature: signature,
            expiration: expiration,
            'Video-Id': videoId,
        },
        // The metadata contains the file name and file type
        metadata: {
            filename: 'video.mp4',
            filetype: 'video/mp4',
        },
        onError: function (error) {
            console.log("Failed because: " + error)
            process.exitCode = 1
        },
        onProgress: function (bytesUploaded, bytesTotal) {
            var percentage = (bytesUploaded / bytesTotal * 100).toFixed(2)
            console.log(bytesUploaded, bytesTotal, percentage + "%")
        },
        onSuccess: function () {
            console.log("Uploaded %s", upload.url)
        },        
    })
    upload.start()
}

main();
