// Charts: every .chart element carries its ECharts option as JSON in data-option.
(function () {
  function initCharts() {
    if (!window.echarts) return;
    document.querySelectorAll('.chart[data-option]').forEach(function (el) {
      var option = JSON.parse(el.dataset.option);
      option.animation = false;
      var chart = echarts.init(el, null, { renderer: 'canvas' });
      chart.setOption(option);
      el.dataset.rendered = '1';
      window.addEventListener('resize', function () { chart.resize(); });
      window.addEventListener('beforeprint', function () { chart.resize(); });
    });
  }
  // Sortable tables: click a header with data-sort to sort by that column.
  function initSorting() {
    document.querySelectorAll('table.sortable').forEach(function (table) {
      table.querySelectorAll('th[data-sort]').forEach(function (th, index) {
        th.addEventListener('click', function () {
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          var numeric = th.dataset.sort === 'num';
          // Numbers (scores, counts) first from the largest, as a reader of a ranking expects; text A→Z.
          var ascending = th.dataset.dir ? th.dataset.dir !== 'asc' : !numeric;
          table.querySelectorAll('th').forEach(function (h) { delete h.dataset.dir; });
          th.dataset.dir = ascending ? 'asc' : 'desc';
          rows.sort(function (a, b) {
            var x = a.cells[index], y = b.cells[index];
            var vx = x.dataset.value !== undefined ? x.dataset.value : x.textContent.trim();
            var vy = y.dataset.value !== undefined ? y.dataset.value : y.textContent.trim();
            if (numeric) { vx = vx === '' ? -Infinity : parseFloat(vx); vy = vy === '' ? -Infinity : parseFloat(vy); }
            var c = numeric ? vx - vy : String(vx).localeCompare(String(vy), 'zh-CN');
            return ascending ? c : -c;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        });
      });
    });
  }
  // Long work: a form's button with data-busy disables itself once the form is sent.
  function initBusyButtons() {
    document.querySelectorAll('button[data-busy]').forEach(function (button) {
      var form = button.form;
      if (!form) return;
      form.addEventListener('submit', function () {
        // After this event the form is on its way; a second click would send it again.
        setTimeout(function () { button.disabled = true; button.textContent = button.dataset.busy; }, 0);
      });
    });
  }
  // The job page: poll the job's progress every second; reload once it has finished.
  function initJob() {
    var box = document.getElementById('job');
    if (!box || box.dataset.state === 'done' || box.dataset.state === 'failed' ||
        box.dataset.state === 'interrupted') return;
    var text = document.getElementById('job-progress');
    var state = document.getElementById('job-state');
    function poll() {
      fetch(box.dataset.progressUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (job) {
          if (job.finished) { window.location.reload(); return; }
          state.textContent = job.state_name;
          text.textContent = job.text;
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    setTimeout(poll, 1000);
  }
  // Pickers that submit their form on change (no inline handlers: the site's CSP allows no inline script).
  function initPickers() {
    document.querySelectorAll('select[data-autosubmit], input[data-autosubmit]').forEach(function (select) {
      select.addEventListener('change', function () { select.form.submit(); });
    });
    // The period picker's value is "from|to": copy it into the form's from and to fields.
    document.querySelectorAll('select[data-period-select]').forEach(function (select) {
      select.addEventListener('change', function () {
        var v = select.value.split('|');
        select.form.elements['from'].value = v[0];
        select.form.elements['to'].value = v[1];
        select.form.submit();
      });
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    initCharts(); initSorting(); initBusyButtons(); initJob(); initPickers();
  });
})();
