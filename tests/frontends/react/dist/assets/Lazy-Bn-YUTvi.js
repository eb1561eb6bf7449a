import{j as a}from"./index-D_XFUgcu.js";function s(){return a.jsx("p",{id:"lazy",className:"lazy-box",children:"lazy chunk"})}export{s as default};
