import{_ as c,o as e,c as o}from"./index-CTu4Vf8Q.js";const a={},s={id:"lazy",class:"lazy-box"};function t(n,r){return e(),o("p",s,"lazy chunk")}const l=c(a,[["render",t]]);export{l as default};
