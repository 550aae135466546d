/**
 * The console's stylesheet, served by AdminController at /admin/assets/admin.css so pages need
 * no inline style (CSP `style-src 'self'`). Kept as a string so the build copies no assets.
 *
 * Colours meet WCAG AA on white: text #1f2328 (15.8:1), muted #57606a (6.3:1), links and primary
 * #0b57d0 (6.6:1), danger #a40e26 (8:1); chart colours are told apart by their legend text too.
 * Focus is a 3px outline. Below 40rem tables scroll inside their own box, so the page never
 * scrolls sideways at 375 px.
 */
export const ADMIN_CSS = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.5rem 1rem;border-bottom:1px solid #d0d7de;background:#f6f8fa}
header.top .brand{font-weight:700;margin-right:auto}
nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0}
nav a[aria-current="page"]{font-weight:700;text-decoration:underline}
main{max-width:80rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}
h2{font-size:1.2rem;margin:1.75rem 0 .5rem}
h3{font-size:1.05rem;margin:1rem 0 .25rem}
a{color:#0b57d0}
.muted{color:#57606a}
.problem{color:#a40e26}
.notice{border-left:4px solid #0b57d0;padding:.5rem .75rem;background:#eef4fc}
.table-wrap{overflow-x:auto;max-width:100%;border:1px solid #d0d7de;border-radius:6px}
.table-wrap:focus-visible{outline:3px solid #1f2328}
table{border-collapse:collapse;width:100%;font-size:.925rem}
caption{text-align:left;font-weight:600;padding:.4rem .6rem}
th,td{padding:.35rem .6rem;border-top:1px solid #d0d7de;text-align:left;vertical-align:top}
thead th{background:#f6f8fa;border-top:0;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:.75rem;list-style:none;padding:0;margin:0}
.card{border:1px solid #d0d7de;border-radius:8px;padding:.75rem 1rem}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15rem .75rem;margin:.25rem 0}
dt{color:#57606a}dd{margin:0;min-width:0;overflow-wrap:anywhere}
form.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin:0 0 1rem}
form.filters div{display:flex;flex-direction:column}
label{font-weight:600}
input,select{font:inherit;min-height:40px;padding:.3rem .5rem;border:1px solid #57606a;border-radius:6px;background:#fff;color:#1f2328}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0}
.actions form{margin:0}
button,.button{font:inherit;display:inline-block;min-height:40px;padding:.4rem .9rem;border-radius:6px;border:1px solid #57606a;background:#fff;color:#1f2328;cursor:pointer;text-decoration:none}
button.primary{background:#0b57d0;border-color:#0b57d0;color:#fff}
button.danger{background:#a40e26;border-color:#a40e26;color:#fff}
button.link{border:0;background:none;color:#0b57d0;text-decoration:underline;padding:.4rem}
:focus-visible{outline:3px solid #1f2328;outline-offset:2px}
button.primary:focus-visible,button.danger:focus-visible{box-shadow:0 0 0 2px #fff inset}
figure{margin:.5rem 0 1rem}
figure svg{max-width:100%;height:auto;display:block}
figcaption{color:#57606a;font-size:.9rem}
.legend{display:flex;gap:1rem;list-style:none;padding:0;margin:.25rem 0;font-size:.9rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-1px;border:1px solid #1f2328}
.swatch-a{background:#0b57d0}.swatch-b{background:#a40e26}.swatch-c{background:#9a6700}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem}
.signin{max-width:26rem}
.signin input{width:100%}
.vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.25rem .5rem;z-index:1}
@media (max-width:40rem){main{padding:.75rem}header.top{padding:.5rem .75rem}}
`;
