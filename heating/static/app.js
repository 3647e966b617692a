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
