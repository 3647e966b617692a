// Confirm before irreversible actions: forms with data-confirm ask first.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute && form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Device kinds follow the conversion type: only matching kinds are offered.
function syncDeviceKinds(select) {
  var kinds = JSON.parse(select.getAttribute("data-device-kinds"))[select.value] || [];
  var device = document.getElementById(select.getAttribute("data-device-field"));
  if (!device) { return; }
  var firstAllowed = null;
  Array.prototype.forEach.call(device.options, function (option) {
    var ok = kinds.indexOf(option.value) !== -1;
    option.hidden = !ok;
    option.disabled = !ok;
    if (ok && firstAllowed === null) { firstAllowed = option.value; }
  });
  if (kinds.indexOf(device.value) === -1 && firstAllowed !== null) { device.value = firstAllowed; }
}
document.querySelectorAll("select[data-device-kinds]").forEach(function (select) {
  syncDeviceKinds(select);
  select.addEventListener("change", function () { syncDeviceKinds(select); });
});

// Buttons that each ask their own question (pass / fail on the inspection screen).
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var message = button && button.getAttribute("data-confirm-button");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Camera inputs show the picture just taken, so the inspector sees what will be sent.
document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
  input.addEventListener("change", function () {
    var img = document.getElementById(input.getAttribute("data-preview"));
    if (!img) { return; }
    if (img.src) { URL.revokeObjectURL(img.src); }
    if (input.files && input.files[0]) {
      img.src = URL.createObjectURL(input.files[0]);
      img.hidden = false;
    } else {
      img.hidden = true;
    }
  });
});

// Batch print: a box ticks every row, and the button says how many will print.
document.querySelectorAll("input[type=checkbox][data-check-all]").forEach(function (all) {
  var form = all.form;
  var name = all.getAttribute("data-check-all");
  var boxes = form.querySelectorAll("input[type=checkbox][name='" + name + "']");
  var button = form.querySelector("button[data-count-label]");
  var allLabel = button ? button.textContent : "";
  function update() {
    var ticked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
    all.checked = ticked > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
    if (button) {
      button.textContent = ticked > 0 && ticked < boxes.length
        ? button.getAttribute("data-count-label").replace("{n}", ticked) : allLabel;
    }
  }
  all.addEventListener("change", function () {
    Array.prototype.forEach.call(boxes, function (b) { b.checked = all.checked; });
    update();
  });
  Array.prototype.forEach.call(boxes, function (b) { b.addEventListener("change", update); });
  update();
});
