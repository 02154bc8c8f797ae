// Draws the figure of a /studies/{id}/figures/{n}/html page from its JSON data block
// (kept out of inline script, which the Content-Security-Policy forbids).
const fig = JSON.parse(document.getElementById("figure-data").textContent);
Plotly.newPlot("figure", fig.data, fig.layout, {responsive: true, displaylogo: false});
