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
          var ascending = th.dataset.dir !== 'asc';
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
  document.addEventListener('DOMContentLoaded', function () { initCharts(); initSorting(); });
})();
