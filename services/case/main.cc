// kosapo-case: see services/case/case_server.h and README.md.
#include "common/service/service_main.h"
#include "services/case/case_server.h"

int main(int argc, char** argv) {
  return kosapo::ServiceMain(argc, argv, kosapo::cases::Definition());
}
