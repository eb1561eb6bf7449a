// styled-components takes the nonce for the <style> it injects from this
// global; Moat puts each response's nonce in <meta property="csp-nonce">.
window.__webpack_nonce__ = document.querySelector('meta[property="csp-nonce"]')?.nonce
