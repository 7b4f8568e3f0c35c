// Mock CUDA driver (libcuda.so.1) and cuBLAS (libcublas.so.13) for testing the GPU runner's plumbing on a machine
// without a GPU; see docs/GPU_NOTES.md ("Verified without a GPU"). Build and use:
//   mkdir -p /tmp/mockcuda && gcc -O2 -shared -fPIC -o /tmp/mockcuda/libcuda.so.1 bench/gpu/mock_cuda.c -lm
//   cp /tmp/mockcuda/libcuda.so.1 /tmp/mockcuda/libcublas.so.13
//   LD_LIBRARY_PATH=/tmp/mockcuda .runner/kerneldsl-gpu check --seed 1      # GEMMs PASS, attention FAILs (no-op)
//   LD_LIBRARY_PATH=/tmp/mockcuda .runner/kerneldsl-gpu time --sizes 128,256 --fp32-sizes 128 --attention-seq 128 --heads 2
// Never on the GPU machine, and never installed system-wide: it only stands in for the real libraries.
// A fake CUDA driver + cuBLAS for exercising the runner's plumbing without a GPU. "Device memory" is host memory.
// cuLaunchKernel emulates the runner's GEMM kernels by name (so the harness's layouts, leading dimensions and
// reference can be checked end to end); attention kernels are no-ops. cublasGemmEx is a real column-major GEMM.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <math.h>
typedef int CUresult;
static float elapsed_ms = 10.0f;
CUresult cuInit(unsigned f){return 0;}
CUresult cuDriverGetVersion(int*v){*v=13000;return 0;}
CUresult cuDeviceGetCount(int*c){*c=1;return 0;}
CUresult cuDeviceGet(int*d,int o){*d=0;return 0;}
CUresult cuDeviceGetName(char*n,int len,int d){snprintf(n,len,"Mock H100 (no GPU)");return 0;}
CUresult cuDeviceGetAttribute(int*v,int a,int d){
  switch(a){case 1:*v=1024;break;case 8:*v=48*1024;break;case 16:*v=132;break;case 75:*v=9;break;case 76:*v=0;break;case 97:*v=227*1024;break;default:*v=0;}
  return 0;}
CUresult cuDeviceTotalMem_v2(size_t*b,int d){*b=(size_t)80<<30;return 0;}
CUresult cuDevicePrimaryCtxRetain(void**c,int d){*c=(void*)0x1;return 0;}
CUresult cuDevicePrimaryCtxRelease_v2(int d){return 0;}
CUresult cuCtxSetCurrent(void*c){return 0;}
CUresult cuCtxSynchronize(void){return 0;}
CUresult cuGetErrorName(int e,const char**s){*s="MOCK_ERROR";return 0;}
CUresult cuGetErrorString(int e,const char**s){*s="mock error";return 0;}
typedef struct { char name[256]; } fn_t;
CUresult cuModuleLoadData(void**m,const void*img){*m=malloc(1);return 0;}
CUresult cuModuleUnload(void*m){return 0;}
CUresult cuModuleGetFunction(void**f,void*m,const char*name){fn_t*x=calloc(1,sizeof(fn_t));strncpy(x->name,name,255);*f=x;return 0;}
CUresult cuFuncGetAttribute(int*v,int a,void*f){switch(a){case 0:*v=1024;break;case 4:*v=128;break;default:*v=0;}return 0;}
CUresult cuFuncSetAttribute(void*f,int a,int v){return 0;}
CUresult cuStreamCreate(void**s,unsigned f){*s=malloc(1);return 0;}
CUresult cuStreamDestroy_v2(void*s){return 0;}
CUresult cuStreamSynchronize(void*s){return 0;}
CUresult cuStreamWaitEvent(void*s,void*e,unsigned f){return 0;}
CUresult cuEventCreate(void**e,unsigned f){*e=malloc(1);return 0;}
CUresult cuEventRecord(void*e,void*s){return 0;}
CUresult cuEventQuery(void*e){return 0;}
CUresult cuEventSynchronize(void*e){return 0;}
CUresult cuEventElapsedTime(float*ms,void*a,void*b){*ms=elapsed_ms;return 0;}
CUresult cuEventDestroy_v2(void*e){return 0;}
CUresult cuMemAlloc_v2(uint64_t*p,size_t b){*p=(uint64_t)malloc(b?b:1);return *p?0:2;}
CUresult cuMemFree_v2(uint64_t p){free((void*)p);return 0;}
CUresult cuMemcpyHtoD_v2(uint64_t d,const void*s,size_t b){memcpy((void*)d,s,b);return 0;}
CUresult cuMemcpyDtoH_v2(void*d,uint64_t s,size_t b){memcpy(d,(void*)s,b);return 0;}
CUresult cuMemcpyHtoDAsync_v2(uint64_t d,const void*s,size_t b,void*st){memcpy((void*)d,s,b);return 0;}
CUresult cuMemcpyDtoHAsync_v2(void*d,uint64_t s,size_t b,void*st){memcpy(d,(void*)s,b);return 0;}
CUresult cuMemsetD8_v2(uint64_t d,unsigned char v,size_t n){memset((void*)d,v,n);return 0;}
CUresult cuMemsetD16_v2(uint64_t d,unsigned short v,size_t n){for(size_t i=0;i<n;i++)((unsigned short*)d)[i]=v;return 0;}
CUresult cuMemsetD32_v2(uint64_t d,unsigned v,size_t n){for(size_t i=0;i<n;i++)((unsigned*)d)[i]=v;return 0;}

// element types: 0 f32, 2 f16, 14 bf16
static double ld_el(const void*p,size_t i,int t){
  if(t==0) return ((const float*)p)[i];
  if(t==2) return (double)((const _Float16*)p)[i];
  uint32_t b=((uint32_t)((const uint16_t*)p)[i])<<16; float f; memcpy(&f,&b,4); return f;}
static void st_el(void*p,size_t i,int t,double v){
  if(t==0){((float*)p)[i]=(float)v;return;}
  if(t==2){((_Float16*)p)[i]=(_Float16)(float)v;return;}
  float f=(float)v; uint32_t b; memcpy(&b,&f,4); uint32_t r=0x7FFF+((b>>16)&1); ((uint16_t*)p)[i]=(uint16_t)((b+r)>>16);}
static double act(int a,double x){ if(a==1) return x>0?x:0; if(a==2) return x/(1+exp(-x)); if(a==3) return 0.5*x*(1+tanh(sqrt(2/M_PI)*(x+0.044715*x*x*x))); return x;}

// Row-major C = act(alpha op(A) op(B) + beta C + bias) as KernelDsl defines it.
static void rowmajor(const void*A,const void*B,void*C,const void*bias,int tin,int tout,int ta,int tb,int m,int n,int k,int lda,int ldb,int ldc,float alpha,float beta,int a){
  if((double)m*n*k>1.1e9) return;  // too slow to emulate: leave C as is
  for(int i=0;i<m;i++)for(int j=0;j<n;j++){double s=0;for(int p=0;p<k;p++){
      double x=ta?ld_el(A,(size_t)p*lda+i,tin):ld_el(A,(size_t)i*lda+p,tin);
      double y=tb?ld_el(B,(size_t)j*ldb+p,tin):ld_el(B,(size_t)p*ldb+j,tin); s+=x*y;}
    double v=alpha*s+(beta!=0?beta*ld_el(C,(size_t)i*ldc+j,tout):0)+(bias?ld_el(bias,j,tout):0);
    st_el(C,(size_t)i*ldc+j,tout,act(a,v));}}

CUresult cuLaunchKernel(void*f,unsigned gx,unsigned gy,unsigned gz,unsigned bx,unsigned by,unsigned bz,unsigned sh,void*st,void**p,void**extra){
  const char*name=((fn_t*)f)->name;
  if(strncmp(name,"kd_gemm_",8)!=0) return 0;  // attention: no-op
  int tin=0,tout=0,ta=0,tb=0,bias=0,a=0;
  if(strstr(name,"F16Tn")){tin=2;tb=1;} if(strstr(name,"Bf16Tn")){tin=14;tb=1;} if(strstr(name,"F16Nn")){tin=2;}
  if(strstr(name,"BiasGeluF16")){tout=2;bias=1;a=3;}
  if(strstr(name,"F32Proj")){tb=1;bias=1;a=1;} if(strstr(name,"F32Gate")){ta=1;bias=1;a=2;}
  int i=0; void*A=*(void**)p[i++]; void*B=*(void**)p[i++]; void*C=*(void**)p[i++]; void*bi=bias?*(void**)p[i++]:NULL;
  int m=*(int*)p[i++],n=*(int*)p[i++],k=*(int*)p[i++],lda=*(int*)p[i++],ldb=*(int*)p[i++],ldc=*(int*)p[i++];
  float al=*(float*)p[i++],be=*(float*)p[i++];
  rowmajor(A,B,C,bi,tin,tout,ta,tb,m,n,k,lda,ldb,ldc,al,be,a);
  return 0;}

// cuBLAS (column-major).
int cublasCreate_v2(void**h){*h=malloc(1);return 0;}
int cublasDestroy_v2(void*h){return 0;}
int cublasSetStream_v2(void*h,void*s){return 0;}
int cublasGetVersion_v2(void*h,int*v){*v=130001;return 0;}
const char*cublasGetStatusString(int s){return "mock";}
int cublasGemmEx(void*h,int ta,int tb,int m,int n,int k,const float*alpha,const void*A,int at,int lda,const void*B,int bt,int ldb,const float*beta,void*C,int ct,int ldc,int compute,int algo){
  if(compute!=68||algo!=-1) return 7;
  if(ta==0 && lda<m) return 7;  // CUBLAS_STATUS_INVALID_VALUE, as cuBLAS checks leading dimensions
  if(ta==1 && lda<k) return 7;
  if(tb==0 && ldb<k) return 7;
  if(tb==1 && ldb<n) return 7;
  if(ldc<m) return 7;
  if((double)m*n*k>3e8) return 0;
  for(int i=0;i<m;i++)for(int j=0;j<n;j++){double s=0;for(int p=0;p<k;p++){
      double x=ta==0?ld_el(A,(size_t)i+(size_t)p*lda,at):ld_el(A,(size_t)p+(size_t)i*lda,at);
      double y=tb==0?ld_el(B,(size_t)p+(size_t)j*ldb,bt):ld_el(B,(size_t)j+(size_t)p*ldb,bt); s+=x*y;}
    double v=*alpha*s+(*beta!=0?*beta*ld_el(C,(size_t)i+(size_t)j*ldc,ct):0); st_el(C,(size_t)i+(size_t)j*ldc,ct,v);}
  return 0;}
