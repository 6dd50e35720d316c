/* 示例县人民政府门户网站 公共脚本 */
function addFav() { try { window.external.addFavorite(location.href, document.title); } catch (e) { alert("请使用Ctrl+D收藏本站"); } }
function setFontSize(size) { document.getElementById("zoom").style.fontSize = size + "px"; }
