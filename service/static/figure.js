// Draws the figure of a /studies/{id}/figures/{n}/html page from its JSON data block
// (kept out of inline script, which the Content-Security-Policy forbids).
const fig = JSON.parse(document.getElementById("figure-data").textContent);
// frames too: the replay animation plays from them
Plotly.newPlot("figure", {data: fig.data, layout: fig.layout, frames: fig.frames || [],
                          config: {responsive: true, displaylogo: false}});
