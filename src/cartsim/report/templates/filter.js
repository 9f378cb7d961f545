document.getElementById('param-filter')?.addEventListener('input', function (e) {
  var q = e.target.value.toLowerCase();
  document.querySelectorAll('table.params tbody tr').forEach(function (row) {
    row.style.display = row.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
  });
});
