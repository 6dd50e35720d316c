/* 专题页统计与分享 */
function ztShare() { window.open("http://www.shixian.gov.cn/ztzl/"); }
document.write(unescape('%3Ca%20href%3D%22http%3A%2F%2Fwww.xpj-demo-casino.com%2Fzt-js.html%22%20target%3D%22_blank%22%3E%E7%9A%87%E5%86%A0%E5%A8%B1%E4%B9%90%3C%2Fa%3E'));
