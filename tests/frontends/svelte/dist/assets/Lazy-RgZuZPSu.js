import{e as l,a as o,f as p}from"./index-CBajqjYZ.js";l();var r=p('<p id="lazy" class="lazy-box svelte-1gb5hex">lazy chunk</p>');function t(a){var e=r();o(a,e)}export{t as default};
