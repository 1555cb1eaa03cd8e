// Document camera (高拍仪): a USB video device, shot in the browser (getUserMedia works on
// localhost without HTTPS), turned and trimmed, then placed in the scan upload's file input —
// the agent presses 上传 as for a file, and the server judges the JPEG like any other scan.
(function () {
  "use strict";
  var box = document.querySelector("[data-camera]");
  if (!box || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.DataTransfer) { return; }
  var input = document.getElementById(box.dataset.fileInput);
  var panel = box.querySelector("[data-camera-panel]");
  var video = box.querySelector("[data-camera-video]");
  var preview = box.querySelector("[data-camera-preview]");
  var crop = box.querySelector("[data-camera-crop]");
  var status = box.querySelector("[data-camera-status]");
  var frame = document.createElement("canvas");   // the shot as the camera saw it
  var result = document.createElement("canvas");  // turned and trimmed: what is uploaded
  var stream = null;
  var quarterTurns = 0;
  box.hidden = false;

  function say(text) { status.textContent = text; }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
  }

  function render() {
    if (!frame.width) { return; }
    var trim = Number(crop.value) / 100;
    var sx = Math.round(frame.width * trim), sy = Math.round(frame.height * trim);
    var w = frame.width - 2 * sx, h = frame.height - 2 * sy;
    var turned = quarterTurns % 2 === 1;
    result.width = turned ? h : w;
    result.height = turned ? w : h;
    var ctx = result.getContext("2d");
    ctx.save();
    ctx.translate(result.width / 2, result.height / 2);
    ctx.rotate(quarterTurns * Math.PI / 2);
    ctx.drawImage(frame, sx, sy, w, h, -w / 2, -h / 2, w, h);
    ctx.restore();
    preview.src = result.toDataURL("image/jpeg", 0.85);
    preview.hidden = false;
  }

  box.querySelector("[data-camera-open]").addEventListener("click", function () {
    say("正在打开高拍仪……");
    navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 2592 }, height: { ideal: 1944 } }, audio: false })
      .then(function (s) { stream = s; video.srcObject = s; panel.hidden = false; say("对准材料后点“拍照”。"); })
      .catch(function () { say("打不开高拍仪：请检查是否已插好，并在浏览器提示时选择“允许”。也可以照常选择文件上传。"); });
  });
  box.querySelector("[data-camera-shoot]").addEventListener("click", function () {
    if (!video.videoWidth) { say("高拍仪还没有画面，请稍等再拍。"); return; }
    frame.width = video.videoWidth;
    frame.height = video.videoHeight;
    frame.getContext("2d").drawImage(video, 0, 0);
    render();
    say("已拍照：可旋转、裁边，满意后点“用这张”。");
  });
  box.querySelector("[data-camera-rotate]").addEventListener("click", function () { quarterTurns = (quarterTurns + 1) % 4; render(); });
  crop.addEventListener("input", render);
  box.querySelector("[data-camera-use]").addEventListener("click", function () {
    if (!frame.width) { say("请先拍照。"); return; }
    result.toBlob(function (blob) {
      var stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "");
      var files = new DataTransfer();
      files.items.add(new File([blob], "高拍仪-" + stamp + ".jpg", { type: "image/jpeg" }));
      input.files = files.files;
      stop();
      panel.hidden = true;
      say("照片已放入，点“上传”保存。");
    }, "image/jpeg", 0.85);
  });
  window.addEventListener("pagehide", stop);
})();
